-- Why: deleting a note for good needs an aal2 session in the database too (0021), not only in
-- the notes function's guard; trashing stays open to the author at aal1.
\ir helpers/begin.psql
select plan(4);

select pg_temp.as_user('member', 'aal1');
select is(pg_temp.affected($$delete from notes where id = 'c2000000-0000-4000-8000-000000000001'$$), 0::bigint,
          'the author at aal1 cannot delete their note for good');
select is(pg_temp.affected($$update notes set deleted_at = now() where id = 'c2000000-0000-4000-8000-000000000001'$$), 1::bigint,
          'the author at aal1 can still trash it');
select pg_temp.as_user('member', 'aal2');
select is(pg_temp.affected($$delete from notes where id = 'c2000000-0000-4000-8000-000000000001'$$), 1::bigint,
          'the author at aal2 deletes it for good');
select pg_temp.as_user('admin', 'aal2');
select is(pg_temp.affected($$delete from notes where id = 'c2000000-0000-4000-8000-000000000001'$$), 0::bigint,
          'an admin at aal2 cannot delete a member''s note');

select * from finish();
rollback;
