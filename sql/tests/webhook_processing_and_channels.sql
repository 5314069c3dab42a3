-- Why: webhook processing (0025, 0026) and channel ownership (0027): the new functions are the
-- service role's only, Paddle events apply in occurred_at order and record failures on the row,
-- the replay is idempotent, a Mercado Pago payment applies only for the id that was signed, and
-- no API role can write messaging_channels (connecting goes through the ownership check).
\ir helpers/begin.psql
select plan(27);

-- Callable by service_role only ----------------------------------------------------------------
select pg_temp.as_user('owner', 'aal2');
select throws_ok($$select process_webhook_event('paddle', 'x')$$, '42501', null, 'authenticated: process_webhook_event refused');
select throws_ok($$select * from replay_webhook_events(10)$$, '42501', null, 'authenticated: replay_webhook_events refused');
select throws_ok($$select apply_mercadopago_payment('x', '{}')$$, '42501', null, 'authenticated: apply_mercadopago_payment refused');
select throws_ok($$select fail_webhook_event('paddle', 'x', 'r')$$, '42501', null, 'authenticated: fail_webhook_event refused');
select throws_ok($$select connect_messaging_channel('c0000000-0000-4000-8000-000000000001', '1', '100000000000009', null)$$,
                 '42501', null, 'authenticated: connect_messaging_channel refused');
select pg_temp.as_anon();
select throws_ok($$select * from replay_webhook_events(10)$$, '42501', null, 'anon: replay_webhook_events refused');

-- messaging_channels: no API role writes it --------------------------------------------------------
select pg_temp.as_user('owner', 'aal2');
select throws_ok($$insert into messaging_channels (workspace_id, phone_number_id) values ('c0000000-0000-4000-8000-000000000001', '100000000000009')$$,
                 '42501', null, 'an owner cannot insert a channel directly');
select throws_ok($$update messaging_channels set display_phone_number = 'x'$$, '42501', null,
                 'an owner cannot update a channel directly');
select is(pg_temp.affected($$delete from messaging_channels where id = 'c5000000-0000-4000-8000-000000000001'$$), 1::bigint,
          'an owner still disconnects a channel');

-- connect_messaging_channel: the user in the claims must manage the live workspace --------------
select pg_temp.become('service_role', '{"role":"service_role","sub":"c1000000-0000-4000-8000-000000000005"}');
select is(connect_messaging_channel('c0000000-0000-4000-8000-000000000001', '1', '100000000000009', null), 'not_found',
          'an outsider cannot connect a number to the victim''s workspace');
select pg_temp.become('service_role', '{"role":"service_role","sub":"c1000000-0000-4000-8000-000000000003"}');
select is(connect_messaging_channel('c0000000-0000-4000-8000-000000000001', '1', '100000000000009', null), 'forbidden',
          'a plain member cannot connect');
select pg_temp.become('service_role', '{"role":"service_role","sub":"c1000000-0000-4000-8000-000000000002"}');
select is(connect_messaging_channel('c0000000-0000-4000-8000-000000000001', '1', '100000000000009', '+1'), 'connected',
          'an admin connects a proven number');
select is(connect_messaging_channel('c0000000-0000-4000-8000-000000000001', '1', '100000000000009', '+1'), 'already_connected',
          'connecting again is recognised');
select pg_temp.become('service_role', '{"role":"service_role"}');
select throws_ok($$select connect_messaging_channel('c0000000-0000-4000-8000-000000000001', '1', '100000000000010', null)$$,
                 '42501', null, 'without a user in the claims: refused');

-- Paddle processing: in occurred_at order, failures on the row --------------------------------
select pg_temp.as_service_role();
select record_webhook_event('paddle', 'evt_tap_new', 'subscription.canceled', '2026-11-10T00:00:00Z',
  '{"data":{"id":"sub_fixturevictim","status":"canceled","customer_id":"ctm_fixturevictim"}}', '{}');
select is(process_webhook_event('paddle', 'evt_tap_new'), 'applied', 'a subscription event applies');
select record_webhook_event('paddle', 'evt_tap_old', 'subscription.updated', '2026-11-09T00:00:00Z',
  '{"data":{"id":"sub_fixturevictim","status":"active","customer_id":"ctm_fixturevictim"}}', '{}');
select is(process_webhook_event('paddle', 'evt_tap_old'), 'stale', 'an older event is stale');
select is(process_webhook_event('paddle', 'evt_tap_old'), 'already processed', 'a processed event is not processed again');
select record_webhook_event('paddle', 'evt_tap_lost', 'subscription.created', '2026-11-11T00:00:00Z',
  '{"data":{"id":"sub_tapnobody","status":"active","customer_id":"ctm_tapnobody"}}', '{}');
select is(process_webhook_event('paddle', 'evt_tap_lost'), 'failed: no_workspace', 'an unroutable event fails');
select record_webhook_event('paddle', 'evt_tap_bad', 'subscription.updated', '2026-11-12T00:00:00Z',
  '{"data":{"id":"sub_fixturevictim","status":"exploded"}}', '{}');
select matches(process_webhook_event('paddle', 'evt_tap_bad'), '^failed: invalid_event', 'a malformed event fails, recorded');
select is(count(*)::int, 0, 'the replay does not retry a fresh failure (back-off) nor a processed event')
  from replay_webhook_events(1000) r where r.event_id like 'evt_tap_%';
reset role;
select results_eq($$select status, processing_note from webhook_events where event_id like 'evt_tap_%' order by event_id$$,
  $$values ('failed', 'invalid_event: status exploded'), ('failed', 'no_workspace'), ('processed', 'applied'), ('processed', 'stale')$$,
  'each row records its outcome');
select is((select status from billing_accounts where workspace_id = 'c0000000-0000-4000-8000-000000000001'), 'canceled',
          'the newest state holds');

-- Mercado Pago: only the signed payment id applies --------------------------------------------
select pg_temp.as_service_role();
select record_webhook_event('mercadopago', '77:r:1', 'payment.updated', null, '{}', '{}', null, '77');
select is(process_webhook_event('mercadopago', '77:r:1'), 'awaiting payment fetch', 'a payment waits for its fetch');
select is(apply_mercadopago_payment('77:r:1', '{"id":78,"status":"approved","date_last_updated":"2026-11-01T00:00:00Z","external_reference":"c0000000-0000-4000-8000-000000000001"}'),
          'failed: resource_mismatch', 'a payment other than the signed one is refused');
select is(apply_mercadopago_payment('77:r:1', '{"id":77,"status":"approved","date_last_updated":"2026-11-01T00:00:00Z","external_reference":"c0000000-0000-4000-8000-000000000001"}'),
          'applied', 'the signed payment applies');
reset role;
select is((select mercadopago_payment_status from billing_accounts where workspace_id = 'c0000000-0000-4000-8000-000000000001'),
          'approved', 'the workspace''s Mercado Pago state is the fetched one');
select is((select workspace_id from webhook_events where event_id = '77:r:1'), 'c0000000-0000-4000-8000-000000000001'::uuid,
          'the notification is filed under the payment''s workspace');

select * from finish();
rollback;
