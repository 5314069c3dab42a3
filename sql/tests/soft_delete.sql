-- Why: deleting a workspace or a note is restorable for a grace period, then the purge job
-- removes it; while deleted, members lose access and only the owner (workspace) or the author
-- (note) still sees it.
\ir helpers/begin.psql
select plan(12);

select pg_temp.as_user('owner', 'aal2');
select lives_ok($$update workspaces set deleted_at = now() where id = 'c0000000-0000-4000-8000-000000000001'$$,
                'owner at aal2: deletes the workspace');
select isnt_empty($$select 1 from workspaces where id = 'c0000000-0000-4000-8000-000000000001'$$,
                  'owner: still sees the deleted workspace, to restore it');
select is_empty($$select 1 from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$,
                'owner: its notes are gone with it');
select pg_temp.as_user('member');
select is_empty($$select 1 from workspaces where id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$,
                'member: sees nothing of the deleted workspace');
select pg_temp.as_anon();
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token');
select is_empty($$select 1 from notes$$, 'a share link of a deleted workspace opens nothing');
select pg_temp.as_user('owner', 'aal2');
select lives_ok($$update workspaces set deleted_at = null where id = 'c0000000-0000-4000-8000-000000000001'$$,
                'owner at aal2: restores it');
select pg_temp.as_user('member');
select isnt_empty($$select 1 from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$,
                  'member: sees the restored workspace''s notes');

-- Notes: the author keeps the trashed note (c2…04, deleted 1 day ago); the purge honours the grace.
select is((select count(*) from notes where id = 'c2000000-0000-4000-8000-000000000004'), 1::bigint,
          'author: sees their trashed note');
select pg_temp.as_user('owner');
select is_empty($$select 1 from notes where id = 'c2000000-0000-4000-8000-000000000004'$$,
                'another member: does not see a trashed note');

select pg_temp.become('none', '{}');
update notes set deleted_at = now() - interval '31 days' where id = 'c2000000-0000-4000-8000-000000000004';
update workspaces set deleted_at = now() - interval '31 days' where id = 'c0000000-0000-4000-8000-000000000003';
select pg_temp.as_service_role();
select cmp_ok(purge_soft_deleted('30 days', 'http'), '>=', 2::bigint, 'the purge removes what is past its grace');
select pg_temp.become('none', '{}');
select is_empty($$select 1 from notes where id = 'c2000000-0000-4000-8000-000000000004'
                  union all select 1 from workspaces where id = 'c0000000-0000-4000-8000-000000000003'
                  union all select 1 from memberships where workspace_id = 'c0000000-0000-4000-8000-000000000003'$$,
                'the trashed note and the deleted workspace (with its memberships) are gone');
select isnt_empty($$select 1 from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$,
                  'live notes stay');

select * from finish();
rollback;
