-- Why: a revoked share link must stay revoked (0020): its manager cannot clear or re-date
-- revoked_at, and a revocation is stamped with the server's clock.
\ir helpers/begin.psql
select plan(7);

select pg_temp.as_user('owner');
select throws_ok($$update share_links set revoked_at = null where id = 'c3000000-0000-4000-8000-000000000003'$$,
                 '42501', 'a revoked share link stays revoked', 'the owner cannot un-revoke a link');
select pg_temp.as_user('admin');
select throws_ok($$update share_links set revoked_at = now() + interval '1 day' where id = 'c3000000-0000-4000-8000-000000000003'$$,
                 '42501', 'a revoked share link stays revoked', 'an admin cannot re-date a revocation');
select lives_ok($$update share_links set revoked_at = revoked_at where id = 'c3000000-0000-4000-8000-000000000003'$$,
                'revoking again (no change) is a no-op');

-- A revocation dated in the past or future gets the server's clock.
select lives_ok($$update share_links set revoked_at = '2001-01-01' where id = 'c3000000-0000-4000-8000-000000000001'$$,
                'the admin revokes the valid link');
select set_config('role', 'none', true);
select is((select revoked_at from share_links where id = 'c3000000-0000-4000-8000-000000000001'), now(),
          'the revocation time is the server''s clock');
select pg_temp.as_anon();
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token');
select is_empty($$select 1 from notes$$, 'the revoked token opens nothing');
select pg_temp.as_user('owner');
select throws_ok($$update share_links set revoked_at = null where id = 'c3000000-0000-4000-8000-000000000001'$$,
                 '42501', 'a revoked share link stays revoked', 'nor can it be un-revoked afterwards');

select * from finish();
rollback;
