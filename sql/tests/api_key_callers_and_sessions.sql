-- Why: API-key callers are admitted in SQL (0041) and user tokens checked against the session
-- store (0042); these are the refusals each function raises, the claims a key gets, and that the
-- key policies re-read the key's row rather than trusting the claims.
\ir helpers/begin.psql
select plan(16);

-- The fixture keys' raw texts (sql/tests/fixtures/tenants.sql).
-- A key caller before admission: role authenticated, no sub.
select pg_temp.become('authenticated', '{"role":"authenticated"}');
select throws_ok($$select private.admit_api_key('rk_fixture_victim', sha256('wrong'::bytea), 'notes:read')$$,
                 'PT401', 'invalid_api_key', 'another secret under a known prefix is refused');
select throws_ok($$select private.admit_api_key('rk_fixture_nobody', sha256('rk_fixture_nobody'::bytea), 'notes:read')$$,
                 'PT401', 'invalid_api_key', 'an unknown prefix is refused');
select throws_ok($$select private.admit_api_key('rk_fixture_revoked', sha256('rk_fixture_revoked_key'::bytea), 'notes:read')$$,
                 'PT401', 'revoked_api_key', 'a revoked key is refused');
select throws_ok($$select private.admit_api_key('rk_fixture_expired', sha256('rk_fixture_expired_key'::bytea), 'notes:read')$$,
                 'PT401', 'expired_api_key', 'an expired key is refused');
select throws_ok($$select private.admit_api_key('rk_fixture_scopeless', sha256('rk_fixture_scopeless_key'::bytea), 'notes:read')$$,
                 'PT403', 'insufficient_scope', 'a key without the scope is refused');
select pg_temp.as_user('owner', 'aal2');
select throws_ok($$select private.admit_api_key('rk_fixture_victim', sha256('rk_fixture_victim_0123456789abcdef'::bytea), 'notes:read')$$,
                 'PT401', 'invalid_api_key', 'a signed-in user cannot turn into a key caller');

select pg_temp.become('authenticated', '{"role":"authenticated"}');
select lives_ok($$select private.admit_api_key('rk_fixture_victim', sha256('rk_fixture_victim_0123456789abcdef'::bytea), 'notes:read')$$,
                'a live key with the scope is admitted');
select is(current_setting('request.jwt.claims', true)::jsonb,
          '{"role": "authenticated", "api_key_id": "c6000000-0000-4000-8000-000000000001",
            "workspace_id": "c0000000-0000-4000-8000-000000000001", "scopes": ["notes:read", "notes:write"]}'::jsonb,
          'the claims a key caller runs with');
select results_eq($$select id::text from notes order by id$$,
                  $$values ('c2000000-0000-4000-8000-000000000001'), ('c2000000-0000-4000-8000-000000000003')$$,
                  'the key reads its workspace''s live team notes only');
select is_empty($$select 1 from api_keys$$, 'a key sees no keys');

-- Forged claims: another workspace, a revoked key. The policies re-read the key's row.
select pg_temp.become('authenticated', '{"role":"authenticated","api_key_id":"c6000000-0000-4000-8000-000000000002",
  "workspace_id":"c0000000-0000-4000-8000-000000000001","scopes":["notes:read","notes:write"]}');
select is_empty($$select 1 from notes$$, 'claims of a revoked key read nothing');
select pg_temp.become('authenticated', '{"role":"authenticated","api_key_id":"c6000000-0000-4000-8000-000000000005",
  "workspace_id":"c0000000-0000-4000-8000-000000000001","scopes":["notes:read","notes:write"]}');
select is_empty($$select 1 from notes where workspace_id = 'c0000000-0000-4000-8000-000000000001'$$,
                'another tenant''s key claiming the victim workspace reads none of it');
select throws_ok($$insert into notes (workspace_id, body) values ('c0000000-0000-4000-8000-000000000001', 'planted')$$,
                 '42501', null, 'nor writes into it');

-- Sessions: a token's session must exist; signing out everywhere ends them all.
select set_config('role', 'none', true);
insert into auth.sessions (id, user_id) values
  ('c7000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000003'),
  ('c7000000-0000-4000-8000-000000000002', 'c1000000-0000-4000-8000-000000000003');
select pg_temp.as_user('member');
select lives_ok($$select private.require_live_session('c7000000-0000-4000-8000-000000000001')$$,
                'a live session passes');
select is(private.sign_out_everywhere(), 2, 'signing out ends both sessions');
select throws_ok($$select private.require_live_session('c7000000-0000-4000-8000-000000000001')$$,
                 'PT401', 'session_revoked', 'the signed-out session is refused');

select * from finish();
rollback;
