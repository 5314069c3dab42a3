-- Why: the two secrets that open rows to people outside a workspace's membership: share-link
-- tokens (x-share-token header, anon or any user) and invitation tokens (x-invitation-token).
\ir helpers/begin.psql
select plan(21);

-- Share links ----------------------------------------------------------------------------------
select pg_temp.as_anon();
select is_empty($$select 1 from notes$$, 'anon without a token: no note');
select throws_ok($$select 1 from share_links$$, '42501', null, 'anon: share_links itself is not readable');
select throws_ok($$select 1 from workspaces$$, '42501', null, 'anon: workspaces are not readable');
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token');
select results_eq($$select id::text from notes$$, array['c2000000-0000-4000-8000-000000000001'],
                  'anon with a valid token: exactly the shared note');
select throws_ok($$update notes set body = 'x'$$, '42501', null, 'anon with a valid token: cannot edit it');
select pg_temp.with_header('x-share-token', 'fixture-share-expired-token');
select is_empty($$select 1 from notes$$, 'anon with an expired token: nothing');
select pg_temp.with_header('x-share-token', 'fixture-share-revoked-token');
select is_empty($$select 1 from notes$$, 'anon with a revoked token: nothing');
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token-but-wrong');
select is_empty($$select 1 from notes$$, 'anon with a wrong token: nothing');
select pg_temp.with_header('x-share-token', '');
select is_empty($$select 1 from notes$$, 'anon with an empty token: nothing');

select pg_temp.as_user('attacker');
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token');
select results_eq($$select id::text from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$,
                  array['c2000000-0000-4000-8000-000000000001'],
                  'another tenant''s user with a valid token: exactly the shared note');

-- The author trashes the note: the link stops working.
select pg_temp.as_user('member');
select lives_ok($$update notes set deleted_at = now() where id = 'c2000000-0000-4000-8000-000000000001'$$,
                'the author trashes the shared note');
select pg_temp.as_anon();
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token');
select is_empty($$select 1 from notes$$, 'anon with a valid token to a trashed note: nothing');

-- Invitations ----------------------------------------------------------------------------------
select pg_temp.as_user('invitee');
select throws_ok($$insert into memberships (workspace_id, user_id, role)
                   values ('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000006', 'member')$$,
                 '42501', null, 'invitee without a token: cannot join');
select pg_temp.with_header('x-invitation-token', 'fixture-invitation-expired-token');
select throws_ok($$insert into memberships (workspace_id, user_id, role)
                   values ('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000006', 'admin')$$,
                 '42501', null, 'invitee with an expired invitation: cannot join');
select pg_temp.with_header('x-invitation-token', 'fixture-invitation-valid-token');
select throws_ok($$insert into memberships (workspace_id, user_id, role)
                   values ('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000006', 'admin')$$,
                 '42501', null, 'invitee: cannot join with another role than the invitation''s');
select pg_temp.as_user('attacker');
select pg_temp.with_header('x-invitation-token', 'fixture-invitation-valid-token');
select throws_ok($$insert into memberships (workspace_id, user_id, role)
                   values ('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000005', 'member')$$,
                 '42501', null, 'someone else holding the token (another e-mail): cannot join');
select pg_temp.as_user('invitee');
select pg_temp.with_header('x-invitation-token', 'fixture-invitation-valid-token');
select lives_ok($$insert into memberships (workspace_id, user_id, role)
                  values ('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000006', 'member')$$,
                'invitee with the valid token: joins as the invitation says');
select is((select count(*) from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'), 1::bigint,
          'the new member sees the team notes');
select pg_temp.as_user('admin');
select isnt((select accepted_at from invitations where id = 'c4000000-0000-4000-8000-000000000001'), null,
            'the invitation is marked accepted');
select pg_temp.as_user('invitee');
select pg_temp.with_header('x-invitation-token', 'fixture-invitation-valid-token');
select lives_ok($$delete from memberships where user_id = 'c1000000-0000-4000-8000-000000000006'$$, 'the invitee leaves');
select throws_ok($$insert into memberships (workspace_id, user_id, role)
                   values ('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000006', 'member')$$,
                 '42501', null, 'an accepted invitation cannot be used again');

select * from finish();
rollback;
