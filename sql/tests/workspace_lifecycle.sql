-- Why: the holes closed by 0017-0019, each shown as the attack it stops: a deletion time in the
-- past that skips the grace period, a purged workspace's id re-created to read its audit trail, a
-- revoked API key set back to NULL, and a removed member's invitations and share links that kept
-- working.
\ir helpers/begin.psql
select plan(20);

-- Deletion time is the server's clock ---------------------------------------------------------
select pg_temp.as_user('owner', 'aal2');
select lives_ok($$update workspaces set deleted_at = now() - interval '400 days'
                   where id = 'c0000000-0000-4000-8000-000000000001'$$,
                'owner at aal2: deletes the workspace, sending a time 400 days ago');
select is((select deleted_at from workspaces where id = 'c0000000-0000-4000-8000-000000000001'), now(),
          'the deletion time recorded is the server''s clock, not the one sent');
select lives_ok($$update workspaces set deleted_at = now() - interval '400 days'
                   where id = 'c0000000-0000-4000-8000-000000000001'$$,
                'owner: deleting again is accepted');
select is((select deleted_at from workspaces where id = 'c0000000-0000-4000-8000-000000000001'), now(),
          'deleting again does not move the deletion time');
select pg_temp.as_service_role();
select lives_ok($$select purge_soft_deleted('30 days', 'http')$$, 'the purge job runs');
select pg_temp.become('none', '{}');
select isnt_empty($$select 1 from workspaces where id = 'c0000000-0000-4000-8000-000000000001'$$,
                  'the purge keeps the workspace: its grace period has only begun');
select pg_temp.as_user('owner', 'aal2');
select lives_ok($$update workspaces set deleted_at = null where id = 'c0000000-0000-4000-8000-000000000001'$$,
                'owner at aal2: restores it within the grace period');

-- Restoring after the grace period ------------------------------------------------------------
select pg_temp.become('none', '{}');
update workspaces set deleted_at = now() - interval '31 days' where id = 'c0000000-0000-4000-8000-000000000003';
select pg_temp.as_user('owner', 'aal2');
select throws_ok($$update workspaces set deleted_at = null where id = 'c0000000-0000-4000-8000-000000000003'$$,
                 '42501', null, 'owner: a workspace past its grace period cannot be restored');

-- A purged workspace's id is never reused -----------------------------------------------------
select pg_temp.as_service_role();
select lives_ok($$select purge_soft_deleted('30 days', 'http')$$, 'the purge removes the workspace past its grace');
select pg_temp.become('none', '{}');
select is_empty($$select 1 from workspaces where id = 'c0000000-0000-4000-8000-000000000003'$$,
                'the purged workspace is gone');
select isnt_empty($$select 1 from audit_log where workspace_id = 'c0000000-0000-4000-8000-000000000003'$$,
                  'its audit trail stays');
select pg_temp.as_user('attacker');
select throws_ok($$insert into workspaces (id, name) values ('c0000000-0000-4000-8000-000000000003', 'Mine now')$$,
                 '42501', null, 'another user cannot re-create the purged workspace''s id');
select is_empty($$select 1 from audit_log where workspace_id = 'c0000000-0000-4000-8000-000000000003'$$,
                'so the old trail stays out of their reach');
select lives_ok($$insert into workspaces (id, name) values ('c0000000-0000-4000-8000-0000000000f1', 'Fresh')$$,
                'a never-used id is still accepted');

-- A revoked API key stays revoked -------------------------------------------------------------
select pg_temp.as_user('owner', 'aal2');
select lives_ok($$update api_keys set revoked_at = now() + interval '10 years'
                   where id = 'c6000000-0000-4000-8000-000000000001'$$,
                'owner at aal2: revokes the key, sending a time in the future');
select is((select revoked_at from api_keys where id = 'c6000000-0000-4000-8000-000000000001'), now(),
          'the revocation time recorded is the server''s clock');
select throws_ok($$update api_keys set revoked_at = null where id = 'c6000000-0000-4000-8000-000000000001'$$,
                 '42501', null, 'owner: a revoked key cannot be un-revoked');

-- Removing a member withdraws their invitations and revokes their share links -----------------
select pg_temp.as_user('owner');
select lives_ok($$delete from memberships where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                   and user_id = 'c1000000-0000-4000-8000-000000000002'$$,
                'owner: removes the admin who created the fixture''s invitations and share links');
select pg_temp.become('none', '{}');
select is_empty($$select 1 from invitations where invited_by = 'c1000000-0000-4000-8000-000000000002'
                   and accepted_at is null$$,
                'the removed admin''s pending invitations are withdrawn');
select pg_temp.as_anon();
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token');
select is_empty($$select 1 from notes$$, 'the removed admin''s share link opens nothing any more');

select * from finish();
rollback;
