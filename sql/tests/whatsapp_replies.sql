-- Why: the WhatsApp reply consumer (0038, 0056) must answer each message once, only for a number
-- a workspace proved it owns, and read no notes beyond the team notes of the workspace whose
-- message it holds a live claim on: the attack matrix sees whatsapp_replies as service-only and
-- does not exercise these functions.
\ir helpers/begin.psql
select plan(14);

-- The functions are the service role's only -------------------------------------------------------
select pg_temp.as_user('owner', 'aal2');
select throws_ok($$select * from claim_whatsapp_reply('wamid.t1', '100000000000001', '15550000002', 60)$$,
                 '42501', null, 'authenticated: claim_whatsapp_reply refused');
select throws_ok($$select whatsapp_context_notes('wamid.fixture-victim-1', 20, 1000)$$,
                 '42501', null, 'authenticated: whatsapp_context_notes refused');

-- An unproven number is never claimed --------------------------------------------------------------
select pg_temp.as_service_role();
select results_eq($$select outcome from claim_whatsapp_reply('wamid.t1', '100000000000001', '15550000002', 60)$$,
                  array['not_ours'], 'a number without a proven WhatsApp Business account: not ours');
reset role;
select is_empty($$select 1 from whatsapp_replies where wamid = 'wamid.t1'$$, 'and nothing is recorded');

-- Once the victim proved the number, a message is claimed once --------------------------------------
update public.messaging_channels set waba_id = '102290129340398'
 where id = 'c5000000-0000-4000-8000-000000000001';
select pg_temp.as_service_role();
select results_eq($$select outcome, workspace_id::text from claim_whatsapp_reply('wamid.t1', '100000000000001', '15550000002', 60)$$,
                  $$values ('claimed', 'c0000000-0000-4000-8000-000000000001')$$, 'the first delivery claims it for the owner');
select results_eq($$select outcome from claim_whatsapp_reply('wamid.t1', '100000000000001', '15550000002', 60)$$,
                  array['in_progress'], 'a redelivery while it is claimed waits');

-- What the claim lets the consumer read: the owner's team notes, nothing else ------------------------
select results_eq($$select unnest(whatsapp_context_notes('wamid.t1', 20, 1000)) order by 1$$,
                  array['Victim owner''s team note', 'Victim team note (shared by link)'],
                  'the claimed workspace''s live team notes, no private or trashed note');
select results_eq($$select unnest(whatsapp_context_notes('wamid.t1', 1, 6))$$,
                  array['Victim'], 'limited and cut as asked');
select is(whatsapp_context_notes('wamid.fixture-victim-1', 20, 1000), null,
          'a message already answered opens no notes');
select is(whatsapp_context_notes('wamid.never-received', 20, 1000), null,
          'a message never claimed opens no notes');
select throws_ok($$select whatsapp_context_notes('wamid.t1', 1000, 1000)$$, '22023', null,
                 'an unbounded read is refused');

-- A failed attempt releases the claim; a sent reply closes the message for good -----------------------
select finish_whatsapp_reply('wamid.t1', null, 'upstream_unavailable');
select is(whatsapp_context_notes('wamid.t1', 20, 1000), null, 'a released claim opens no notes');
select results_eq($$select outcome from claim_whatsapp_reply('wamid.t1', '100000000000001', '15550000002', 60)$$,
                  array['claimed'], 'the retry claims it again');
select finish_whatsapp_reply('wamid.t1', 'wamid.reply-t1', null);
select results_eq($$select outcome from claim_whatsapp_reply('wamid.t1', '100000000000001', '15550000002', 60)$$,
                  array['answered'], 'after the reply was sent, every redelivery is dropped');

select * from finish();
rollback;
