-- Why: files (0048) follow the notes' three tiers, share links may open a file, and the
-- retention of originals is the cron's alone: what the attack matrix does not cover (the share
-- token on files, the job functions, generated object keys).
\ir helpers/begin.psql
select plan(17);

-- Share links to files ------------------------------------------------------------------------
select pg_temp.as_anon();
select is_empty($$select 1 from files$$, 'anon without a token: no file');
select pg_temp.with_header('x-share-token', 'fixture-file-share-token');
select results_eq($$select id::text from files$$, array['c7000000-0000-4000-8000-000000000001'],
                  'anon with a file''s token: exactly that file');
select is_empty($$select 1 from notes$$, 'a file''s token opens no note');
select pg_temp.with_header('x-share-token', 'fixture-share-valid-token');
select is_empty($$select 1 from files$$, 'a note''s token opens no file');
select pg_temp.as_user('attacker');
select pg_temp.with_header('x-share-token', 'fixture-file-share-token');
select results_eq($$select id::text from files$$, array['c7000000-0000-4000-8000-000000000001'],
                  'another tenant''s user with a file''s token: exactly that file');

-- A link names exactly one note or file, in its own workspace; a member cannot make one.
select pg_temp.as_user('owner');
select throws_ok($$insert into share_links (workspace_id, note_id, file_id, token_hash)
                   values ('c0000000-0000-4000-8000-000000000001', 'c2000000-0000-4000-8000-000000000001',
                           'c7000000-0000-4000-8000-000000000001', sha256('x'))$$,
                 '23514', null, 'a link opens a note or a file, not both');
select throws_ok($$insert into share_links (workspace_id, file_id, token_hash)
                   values ('c0000000-0000-4000-8000-000000000001', 'c7000000-0000-4000-8000-000000000002', sha256('y'))$$,
                 '42501', null, 'an owner cannot share a member''s private file they cannot see');
select pg_temp.as_user('member');
select throws_ok($$insert into share_links (workspace_id, file_id, token_hash)
                   values ('c0000000-0000-4000-8000-000000000001', 'c7000000-0000-4000-8000-000000000001', sha256('z'))$$,
                 '42501', null, 'a member cannot share a file');

-- Object keys are the database's: under the file's workspace, never a caller's choice.
select pg_temp.as_user('member');
select throws_ok($$insert into files (workspace_id, name, content_type, original_bytes, processed_bytes, original_key)
                   values ('c0000000-0000-4000-8000-000000000001', 'x.txt', 'text/plain; charset=utf-8', 1, 1, 'c0000000-0000-4000-8000-000000000002/x')$$,
                 null, null, 'a caller cannot choose an object key');
select throws_ok($$update files set original_purged_at = null$$, '42501', null,
                 'no caller marks or unmarks a purge');
select is((select bool_and(original_key = workspace_id || '/' || id || '/original'
                           and processed_key = workspace_id || '/' || id || '/processed') from files),
          true, 'every key lies under its workspace''s prefix');

-- The retention functions: service_role only, and only what is due.
select pg_temp.as_user('owner');
select throws_ok($$select * from file_originals_due(interval '30 days', 'http', 10)$$, '42501', null,
                 'a user cannot list originals due');
select pg_temp.as_service_role();
select is_empty($$select * from file_originals_due(interval '30 days', 'http', 10)$$,
                'nothing is due inside the window');
reset role;
update public.files set created_at = now() - interval '31 days' where id = 'c7000000-0000-4000-8000-000000000002';
select pg_temp.as_service_role();
select results_eq($$select id::text from file_originals_due(interval '30 days', 'http', 10)$$,
                  array['c7000000-0000-4000-8000-000000000002'], 'the old original is due');
select is(mark_file_originals_purged(interval '30 days', 'http',
            array['c7000000-0000-4000-8000-000000000002', 'c7000000-0000-4000-8000-000000000001']::uuid[]),
          1::bigint, 'only the due original is marked, however many ids are sent');
select is_empty($$select * from file_originals_due(interval '30 days', 'http', 10)$$,
                'a purged original is not due again');
select throws_ok($$select mark_file_originals_purged(interval '1 hour', 'http', array[]::uuid[])$$, '22023', null,
                 'a window under one day is refused');

select * from finish();
rollback;
