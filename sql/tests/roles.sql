-- Why: what each role of the victim workspace may do, and what the other tenant's user, a
-- removed member and anon may not (policies of sql/migrations/0004..0014).
\ir helpers/begin.psql
\set victim '''c0000000-0000-4000-8000-000000000001'''
select plan(54);

-- Owner ----------------------------------------------------------------------------------------
select pg_temp.as_user('owner');
select is((select count(*) from workspaces where id = :victim), 1::bigint, 'owner: sees the workspace');
select is(pg_temp.affected($$update workspaces set name = 'Victim renamed' where id = 'c0000000-0000-4000-8000-000000000001'$$),
          1::bigint, 'owner: renames the workspace');
select throws_ok($$update workspaces set deleted_at = now() where id = 'c0000000-0000-4000-8000-000000000001'$$,
                 '42501', null, 'owner at aal1: cannot delete the workspace');
select is((select count(*) from notes where workspace_id = :victim), 4::bigint,
          'owner: sees the team notes and their own private and trashed notes, not a member''s');
select is((select count(*) from billing_accounts where workspace_id = :victim), 1::bigint, 'owner: sees billing');
select pg_temp.as_user('owner', 'aal2');
select throws_ok($$delete from memberships where user_id = 'c1000000-0000-4000-8000-000000000001'$$,
                 '42501', null, 'owner: the last owner cannot be removed');
select throws_ok($$delete from workspaces where id = 'c0000000-0000-4000-8000-000000000001'$$,
                 '42501', null, 'owner: no hard DELETE over the API (the purge job removes)');

-- Admin ----------------------------------------------------------------------------------------
select pg_temp.as_user('admin');
select is((select count(*) from memberships where workspace_id = :victim), 3::bigint, 'admin: sees the members');
select is(pg_temp.affected($$update memberships set role = 'admin' where user_id = 'c1000000-0000-4000-8000-000000000003'$$),
          1::bigint, 'admin: changes a member''s role');
select throws_ok($$update memberships set role = 'owner' where user_id = 'c1000000-0000-4000-8000-000000000003'$$,
                 '42501', null, 'admin: cannot make an owner');
select is(pg_temp.affected($$delete from memberships where user_id = 'c1000000-0000-4000-8000-000000000001'$$),
          0::bigint, 'admin: cannot remove the owner');
select is(pg_temp.affected($$update workspaces set name = 'by admin' where id = 'c0000000-0000-4000-8000-000000000001'$$),
          1::bigint, 'admin: renames the workspace');
select pg_temp.as_user('admin', 'aal2');
select throws_ok($$update workspaces set deleted_at = now() where id = 'c0000000-0000-4000-8000-000000000001'$$,
                 '42501', null, 'admin, even at aal2: cannot delete the workspace');
select pg_temp.as_user('admin');
select lives_ok($$insert into invitations (workspace_id, email, token_hash)
                  values ('c0000000-0000-4000-8000-000000000001', 'new@victim.test', sha256('roles-test-invite'))$$,
                'admin: invites');
select is((select count(*) from invitations where workspace_id = :victim), 3::bigint, 'admin: sees the invitations');
select lives_ok($$insert into share_links (workspace_id, note_id, token_hash)
                  values ('c0000000-0000-4000-8000-000000000001', 'c2000000-0000-4000-8000-000000000003', sha256('roles-test-link'))$$,
                'admin: shares a team note');
select throws_ok($$insert into share_links (workspace_id, note_id, token_hash)
                   values ('c0000000-0000-4000-8000-000000000001', 'c2000000-0000-4000-8000-000000000002', sha256('roles-test-link2'))$$,
                 '42501', null, 'admin: cannot share a member''s private note');
select is(pg_temp.affected($$update share_links set revoked_at = now() where id = 'c3000000-0000-4000-8000-000000000001'$$),
          1::bigint, 'admin: revokes a share link');
-- Connecting needs the ownership check of the channels function (0027): no direct insert.
select throws_ok($$insert into messaging_channels (workspace_id, phone_number_id)
                  values ('c0000000-0000-4000-8000-000000000001', '100000000000099')$$,
                 '42501', null, 'admin: cannot connect a channel without the ownership check');
select throws_ok($$insert into api_keys (workspace_id, name, prefix, key_hash)
                   values ('c0000000-0000-4000-8000-000000000001', 'k', 'rk_roles_test', sha256('k'))$$,
                 '42501', null, 'admin at aal1: cannot create an API key');
select is_empty($$select 1 from api_keys$$, 'admin at aal1: sees no API key');
select pg_temp.as_user('admin', 'aal2');
select lives_ok($$insert into api_keys (workspace_id, name, prefix, key_hash)
                  values ('c0000000-0000-4000-8000-000000000001', 'k', 'rk_roles_test', sha256('k'))$$,
                'admin at aal2: creates an API key');
select is(pg_temp.affected($$update api_keys set revoked_at = now() where id = 'c6000000-0000-4000-8000-000000000001'$$),
          1::bigint, 'admin at aal2: revokes an API key');
select isnt_empty($$select 1 from audit_log where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$,
                  'admin: reads the audit log');
select throws_ok($$update audit_log set action = 'insert'$$, '42501', null, 'admin: cannot rewrite the audit log');
select throws_ok($$delete from audit_log$$, '42501', null, 'admin: cannot delete the audit log');
select throws_ok($$truncate notes$$, '42501', null, 'admin: no TRUNCATE');

-- Member ---------------------------------------------------------------------------------------
select pg_temp.as_user('member');
select is((select count(*) from notes where workspace_id = :victim), 4::bigint,
          'member: sees team notes and their own private and trashed notes');
select lives_ok($$insert into notes (workspace_id, body) values ('c0000000-0000-4000-8000-000000000001', 'mine')$$,
                'member: writes a note');
select is(pg_temp.affected($$update notes set body = 'defaced' where id = 'c2000000-0000-4000-8000-000000000003'$$),
          0::bigint, 'member: cannot edit the owner''s note');
select is(pg_temp.affected($$update notes set deleted_at = now() where id = 'c2000000-0000-4000-8000-000000000001'$$),
          1::bigint, 'member: trashes their own note');
select is(pg_temp.affected($$update memberships set role = 'admin' where user_id = 'c1000000-0000-4000-8000-000000000003'$$),
          0::bigint, 'member: cannot promote themselves');
select throws_ok($$insert into invitations (workspace_id, email, token_hash)
                   values ('c0000000-0000-4000-8000-000000000001', 'x@victim.test', sha256('member-invite'))$$,
                 '42501', null, 'member: cannot invite');
select is_empty($$select 1 from invitations$$, 'member: sees no invitation');
select is_empty($$select 1 from share_links$$, 'member: sees no share link');
select is_empty($$select 1 from audit_log$$, 'member: sees no audit log');
select is_empty($$select 1 from billing_accounts$$, 'member: sees no billing');
select isnt_empty($$select 1 from messaging_channels$$, 'member: sees the channels');
select is(pg_temp.affected($$delete from messaging_channels$$), 0::bigint, 'member: cannot remove the channel');
select is(pg_temp.affected($$update workspaces set deleted_at = now()$$), 0::bigint, 'member: cannot delete the workspace');
select pg_temp.as_user('member', 'aal2');
select is_empty($$select 1 from api_keys$$, 'member at aal2: sees no API key');
select pg_temp.as_user('member');
select is(pg_temp.affected($$delete from memberships where user_id = 'c1000000-0000-4000-8000-000000000003'$$),
          1::bigint, 'member: leaves the workspace');

-- Removed member -------------------------------------------------------------------------------
select pg_temp.as_user('removed');
select is_empty($$select 1 from workspaces where id = 'c0000000-0000-4000-8000-000000000001'$$, 'removed member: no workspace');
select is_empty($$select 1 from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$, 'removed member: no notes');
select throws_ok($$insert into notes (workspace_id, body) values ('c0000000-0000-4000-8000-000000000001', 'back')$$,
                 '42501', null, 'removed member: cannot write');

-- The other tenant's user ----------------------------------------------------------------------
select pg_temp.as_user('attacker', 'aal2');
select is_empty($$select 1 from workspaces where id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from memberships where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from invitations where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from share_links where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from messaging_channels where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from billing_accounts where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from api_keys where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from audit_log where workspace_id = 'c0000000-0000-4000-8000-000000000001'
                  union all select 1 from profiles where id = 'c1000000-0000-4000-8000-000000000001'$$,
                'other tenant: reads nothing of the victim');
select throws_ok($$insert into notes (workspace_id, body) values ('c0000000-0000-4000-8000-000000000001', 'planted')$$,
                 '42501', null, 'other tenant: cannot write a note into the victim');
select is(pg_temp.affected($$update notes set body = 'x' where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$)
          + pg_temp.affected($$delete from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$)
          + pg_temp.affected($$delete from memberships where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$)
          + pg_temp.affected($$update api_keys set revoked_at = now() where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$),
          0::bigint, 'other tenant: updates and deletes touch nothing of the victim');
select throws_ok($$insert into memberships (workspace_id, user_id, role)
                   values ('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000005', 'owner')$$,
                 '42501', null, 'other tenant: cannot join the victim');
select throws_ok($$insert into share_links (workspace_id, note_id, token_hash)
                   values ('c0000000-0000-4000-8000-000000000001', 'c2000000-0000-4000-8000-000000000001', sha256('stolen'))$$,
                 '42501', null, 'other tenant: cannot share the victim''s note');
select throws_ok($$insert into share_links (workspace_id, note_id, token_hash)
                   values ('c0000000-0000-4000-8000-000000000002', 'c2000000-0000-4000-8000-000000000001', sha256('cross'))$$,
                 '42501', null, 'other tenant: a link in their own workspace cannot point at the victim''s note');

-- A new workspace: the creator becomes its owner -----------------------------------------------
select pg_temp.as_user('attacker');
select lives_ok($$insert into workspaces (id, name) values ('c0000000-0000-4000-8000-0000000000f1', 'New')$$,
                'a user creates a workspace');
select is((select role from memberships where workspace_id = 'c0000000-0000-4000-8000-0000000000f1'),
          'owner', 'the creator is its owner');
select throws_ok($$insert into workspaces (name, created_by) values ('Fake', 'c1000000-0000-4000-8000-000000000001')$$,
                 '42501', null, 'nobody creates a workspace in another user''s name');

select * from finish();
rollback;
