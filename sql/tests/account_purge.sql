-- Why: what an account's export and purge find beyond the rows naming the user's id (0057): rows
-- naming the user's address, and the objects of a workspace that goes with its sole owner.
-- The end-to-end account test drives the whole deletion; this file pins the SQL each step uses.
\ir helpers/begin.psql
select plan(6);

-- A former member's file in the attacker's workspace, where the attacker is the only member.
insert into public.files (id, workspace_id, created_by, name, content_type, visibility, original_bytes, processed_bytes)
  values ('c7000000-0000-4000-8000-0000000000f1', 'c0000000-0000-4000-8000-000000000002',
          'c1000000-0000-4000-8000-000000000003', 'left-behind.png', 'image/png', 'team', 10, 10);

select pg_temp.as_service_role();
select bag_has($$select * from file_object_keys_of_user('c1000000-0000-4000-8000-000000000005')$$,
               $$values ('c0000000-0000-4000-8000-000000000002/c7000000-0000-4000-8000-0000000000f1/original'),
                        ('c0000000-0000-4000-8000-000000000002/c7000000-0000-4000-8000-0000000000f1/processed')$$,
               'a workspace removed with its only member: every file''s objects go, whoever uploaded them');
select bag_hasnt($$select * from file_object_keys_of_user('c1000000-0000-4000-8000-000000000001')$$,
                 $$values ('c0000000-0000-4000-8000-000000000001/c7000000-0000-4000-8000-000000000001/original')$$,
                 'a workspace handed to a successor keeps the other members'' files');
select bag_has($$select * from file_object_keys_of_user('c1000000-0000-4000-8000-000000000001')$$,
               $$values ('c0000000-0000-4000-8000-000000000001/c7000000-0000-4000-8000-000000000003/original')$$,
               'the user''s own files go wherever they are');

-- The export finds the invitation addressed to the caller, by address, whatever its case.
reset role;
insert into public.invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at)
  values ('c3000000-0000-4000-8000-0000000000f1', 'c0000000-0000-4000-8000-000000000002',
          'Member@Victim.test', 'member', sha256('purge-test'), 'c1000000-0000-4000-8000-000000000005',
          now() + interval '1 day');
select pg_temp.as_user('member', 'aal2');
select ok(exists (select 1 from private.account_export_rows()
                   where table_name = 'invitations' and row_data ->> 'id' = 'c3000000-0000-4000-8000-0000000000f1'
                     and not row_data ? 'token_hash'),
          'the export holds the invitation sent to the caller''s address, without its token hash');

-- The purge removes it by the address recorded with the deletion request (the grace period
-- moved into the past).
select private.request_account_deletion();
reset role;
update private.account_deletions set purge_after = now() - interval '1 day'
 where user_id = 'c1000000-0000-4000-8000-000000000003';
select is(email, 'member@victim.test', 'the request records the signed-in address')
  from private.account_deletions where user_id = 'c1000000-0000-4000-8000-000000000003';
select pg_temp.as_service_role();
select purge_account('c1000000-0000-4000-8000-000000000003', 'http');
reset role;
select is_empty($$select 1 from public.invitations where lower(email) = 'member@victim.test'$$,
                'after the purge no invitation holds the address');

select * from finish();
rollback;
