-- Why: the functions webhooks and cron run as service_role (which holds no table grant): only
-- service_role may call them, and each refuses a bad call on its own.
\ir helpers/begin.psql
select plan(34);

-- Callable by service_role only ----------------------------------------------------------------
select pg_temp.as_anon();
select throws_ok($$select record_webhook_event('paddle', 'evt_t', 't', null, '{}', '{}')$$, '42501', null,
                 'anon: record_webhook_event refused');
select throws_ok($$select purge_processed_webhook_events('90 days', 'http')$$, '42501', null,
                 'anon: purge_processed_webhook_events refused');
select throws_ok($$select purge_soft_deleted('30 days', 'http')$$, '42501', null, 'anon: purge_soft_deleted refused');
select throws_ok($$select workspace_for_phone_number('100000000000001')$$, '42501', null,
                 'anon: workspace_for_phone_number refused');
select throws_ok($$select count_rate_limit_hit('ip', '1.2.3.4', 'notes', '1 minute')$$, '42501', null,
                 'anon: count_rate_limit_hit refused');
select pg_temp.as_user('owner', 'aal2');
select throws_ok($$select record_webhook_event('paddle', 'evt_t', 't', null, '{}', '{}')$$, '42501', null,
                 'authenticated: record_webhook_event refused');
select throws_ok($$select purge_processed_webhook_events('90 days', 'http')$$, '42501', null,
                 'authenticated: purge_processed_webhook_events refused');
select throws_ok($$select purge_soft_deleted('30 days', 'http')$$, '42501', null,
                 'authenticated: purge_soft_deleted refused');
select throws_ok($$select workspace_for_phone_number('100000000000001')$$, '42501', null,
                 'authenticated: workspace_for_phone_number refused');
select throws_ok($$select count_rate_limit_hit('ip', '1.2.3.4', 'notes', '1 minute')$$, '42501', null,
                 'authenticated: count_rate_limit_hit refused');
-- The service role's grant, but claims naming another role (a console, a relayed user token).
select pg_temp.become('service_role', '{"role":"authenticated","sub":"c1000000-0000-4000-8000-000000000001"}');
select throws_ok($$select record_webhook_event('paddle', 'evt_t', 't', null, '{}', '{}')$$, '42501', null,
                 'service_role with a user''s claims: refused');
select pg_temp.become('service_role', '{}');
select throws_ok($$select purge_soft_deleted('30 days', 'http')$$, '42501', null,
                 'service_role without claims: refused');

-- No table grant for the service role ----------------------------------------------------------
select pg_temp.as_service_role();
select throws_ok($$select 1 from webhook_events$$, '42501', null, 'service_role: no SELECT on webhook_events');
select throws_ok($$insert into cron_runs (job, trigger, rows_affected) values ('x', 'http', 0)$$, '42501', null,
                 'service_role: no INSERT on cron_runs');
select throws_ok($$delete from notes$$, '42501', null, 'service_role: no DELETE on notes');

-- record_webhook_event -------------------------------------------------------------------------
select is(record_webhook_event('meta', 'evt_pgtap_1', 'messages', now(), '{"a":1}', '{"a":1}',
                               'c0000000-0000-4000-8000-000000000001'), true, 'a new event is stored');
select is(record_webhook_event('meta', 'evt_pgtap_1', 'messages', now(), '{"a":2}', '{"a":2}',
                               'c0000000-0000-4000-8000-000000000001'), false, 'a retry is recognised');
select throws_ok($$select record_webhook_event('stripe', 'evt_t', 't', null, '{}', '{}')$$, '22023', null,
                 'an unknown provider is refused');
select throws_ok($$select record_webhook_event('paddle', '', 't', null, '{}', '{}')$$, '22023', null,
                 'an empty event id is refused');
select throws_ok($$select record_webhook_event('paddle', repeat('x', 201), 't', null, '{}', '{}')$$, '22023', null,
                 'an over-long event id is refused');
select throws_ok($$select record_webhook_event('paddle', 'evt_t', 't', null, null, '{}')$$, '22023', null,
                 'a missing payload is refused');
select throws_ok($$select record_webhook_event('meta', 'evt_t', 't', null, '{}', '{}', 'c0000000-0000-4000-8000-0000000000ff')$$,
                 '23503', null, 'an unknown workspace is refused');
select throws_ok($$select record_webhook_event('meta', 'evt_t', 't', null, '{}', '{}', 'c0000000-0000-4000-8000-000000000003')$$,
                 '23503', null, 'a deleted workspace is refused');

-- Jobs -----------------------------------------------------------------------------------------
select throws_ok($$select purge_processed_webhook_events('1 hour', 'http')$$, '22023', null,
                 'a retention under one day is refused');
select throws_ok($$select purge_processed_webhook_events(null, 'http')$$, '22023', null, 'no retention is refused');
select throws_ok($$select purge_soft_deleted('30 days', 'cli')$$, '22023', null, 'an unknown trigger is refused');
select throws_ok($$select purge_soft_deleted('1 minute', 'schedule')$$, '22023', null, 'a grace under one day is refused');
select cmp_ok(purge_soft_deleted('30 days', 'schedule'), '>=', 0::bigint, 'the soft-delete purge runs');

-- Lookups and counters -------------------------------------------------------------------------
select is(workspace_for_phone_number('100000000000001'), 'c0000000-0000-4000-8000-000000000001'::uuid,
          'a connected number maps to its workspace');
select is(workspace_for_phone_number('100000000000777'), null, 'an unknown number maps to nothing');
select throws_ok($$select workspace_for_phone_number('12a')$$, '22023', null, 'a malformed number is refused');
select is(count_rate_limit_hit('ip', '192.0.2.1', 'pgtap', '1 hour'), 1, 'a first hit counts one');
select is(count_rate_limit_hit('ip', '192.0.2.1', 'pgtap', '1 hour'), 2, 'a second hit in the window counts two');

-- What the calls left, as the superuser sees it.
select pg_temp.become('none', '{}');
select results_eq($$select attempts, payload from webhook_events where event_id = 'evt_pgtap_1'$$,
                  $$values (2, '{"a":1}'::jsonb)$$, 'the retry counted an attempt and kept the first payload');

select * from finish();
rollback;
