-- Why: deliveries were only mirrored in webhook_events; nothing acted on them and nothing was
-- ever marked processed. This migration makes a stored event processable exactly once in effect:
-- Paddle events update billing_accounts in the same transaction that marks the mirror row
-- processed (or failed, with the reason), ordered by the provider's occurred_at so an older event
-- never overwrites newer state; Meta deliveries are marked processed (their filing under a
-- workspace happens when they are stored). A replay (the webhook-replay function) re-runs every
-- event not yet processed; running it twice changes nothing. Mercado Pago payments are applied by
-- 0026 once the function has fetched the payment from Mercado Pago's API.

alter table public.webhook_events
  -- Mercado Pago signs only the resource id (`data.id` in the URL); it is kept apart from the
  -- unsigned body so processing acts on the signed id alone.
  add column if not exists resource_id text check (length(resource_id) between 1 and 200),
  add column if not exists processed_at timestamptz,
  add column if not exists processing_attempts integer not null default 0 check (processing_attempts >= 0),
  -- What processing concluded: applied, stale (older than the state already applied), ignored
  -- (an event type nothing acts on), or, for a failed row, why it failed.
  add column if not exists processing_note text check (length(processing_note) <= 300);

-- The replay's queue: what is not processed yet, least recently tried first.
create index if not exists webhook_events_pending_idx on public.webhook_events (processed_at nulls first, id)
  where status <> 'processed';

alter table public.billing_accounts
  -- occurred_at of the newest Paddle event applied: an older one never overwrites newer state.
  add column if not exists paddle_event_at timestamptz;

-- The record function gains the signed resource id. The old seven-argument form is dropped (a
-- second overload would make calls with defaults ambiguous); callers passing up to seven
-- arguments call the new form unchanged.
drop function if exists public.record_webhook_event(text, text, text, timestamptz, jsonb, text, uuid);
create or replace function public.record_webhook_event(
  p_provider text,
  p_event_id text,
  p_event_type text,
  p_occurred_at timestamptz,
  p_payload jsonb,
  p_raw_body text,
  p_workspace_id uuid default null,
  p_resource_id text default null
) returns boolean
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    inserted boolean;
  begin
    perform private.assert_service_role();
    if p_provider is null or p_provider not in ('paddle', 'meta', 'mercadopago', 'standard_webhooks') then
      raise exception 'unknown webhook provider %', p_provider using errcode = '22023';
    end if;
    if p_event_id is null or length(p_event_id) not between 1 and 200
       or p_event_type is null or length(p_event_type) not between 1 and 200 then
      raise exception 'event id and type must be 1 to 200 characters' using errcode = '22023';
    end if;
    if p_payload is null or p_raw_body is null then
      raise exception 'payload and raw body are required' using errcode = '22023';
    end if;
    if p_resource_id is not null and length(p_resource_id) not between 1 and 200 then
      raise exception 'a resource id must be 1 to 200 characters' using errcode = '22023';
    end if;
    if p_workspace_id is not null
       and not exists (select 1 from public.workspaces w where w.id = p_workspace_id and w.deleted_at is null) then
      raise exception 'workspace % does not exist', p_workspace_id using errcode = '23503';
    end if;

    insert into public.webhook_events as e
        (provider, event_id, event_type, occurred_at, payload, raw_body, workspace_id, resource_id)
      values (p_provider, p_event_id, p_event_type, p_occurred_at, p_payload, p_raw_body, p_workspace_id,
              p_resource_id)
      on conflict (provider, event_id) do update set attempts = e.attempts + 1
      -- xmax is 0 only on a freshly inserted row version.
      returning (xmax = 0) into inserted;
    return inserted;
  end
  $$;
revoke execute on function public.record_webhook_event(text, text, text, timestamptz, jsonb, text, uuid, text)
  from public, anon, authenticated;
grant execute on function public.record_webhook_event(text, text, text, timestamptz, jsonb, text, uuid, text)
  to service_role;

-- The stored event, locked until the transaction ends (processing runs once at a time per event).
create or replace function private.webhook_event_for_update(p_provider text, p_event_id text)
  returns public.webhook_events
  language plpgsql volatile set search_path = ''
  as $$
  declare
    e public.webhook_events;
  begin
    select * into e from public.webhook_events
     where provider = p_provider and event_id = p_event_id for update;
    if not found then
      raise exception 'no such webhook event' using errcode = 'P0002';
    end if;
    return e;
  end
  $$;
revoke execute on function private.webhook_event_for_update(text, text) from public, anon, authenticated;

-- Marks one event processed (note = outcome) or failed (note = reason). Internal.
create or replace function private.finish_webhook_event(p_id bigint, p_processed boolean, p_note text)
  returns text
  language sql volatile set search_path = ''
  as $$
    update public.webhook_events
       set status = case when p_processed then 'processed' else 'failed' end,
           processed_at = now(),
           processing_attempts = processing_attempts + 1,
           processing_note = left(p_note, 300)
     where id = p_id
    returning case when p_processed then p_note else 'failed: ' || p_note end
  $$;
revoke execute on function private.finish_webhook_event(bigint, boolean, text) from public, anon, authenticated;

-- The live workspace a provider names by its id as text (a checkout's custom data or reference);
-- NULL for anything else.
create or replace function private.live_workspace(p_id text) returns uuid
  language sql stable set search_path = ''
  as $$
    select w.id from public.workspaces w
     where p_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
       and w.id = p_id::uuid and w.deleted_at is null
  $$;
revoke execute on function private.live_workspace(text) from public, anon, authenticated;

-- The billing account of `p_workspace`, locked for the update that follows; raises no_workspace
-- when there is none (the caller records it on the event).
create or replace function private.billing_account_for_update(p_workspace uuid) returns public.billing_accounts
  language plpgsql volatile set search_path = ''
  as $$
  declare
    account public.billing_accounts;
  begin
    select * into account from public.billing_accounts where workspace_id = p_workspace for update;
    if not found then
      raise exception 'no_workspace';
    end if;
    return account;
  end
  $$;
revoke execute on function private.billing_account_for_update(uuid) from public, anon, authenticated;

-- The workspace a Paddle event concerns: the `custom_data.workspace_id` set at checkout, else the
-- account already linked to its subscription, else to its customer. NULL when none is live.
create or replace function private.paddle_event_workspace(p_data jsonb, p_subscription_id text) returns uuid
  language plpgsql stable set search_path = ''
  as $$
  declare
    found_id uuid := private.live_workspace(p_data #>> '{custom_data,workspace_id}');
  begin
    if found_id is not null then
      return found_id;
    end if;
    select b.workspace_id into found_id
      from public.billing_accounts b join public.workspaces w on w.id = b.workspace_id and w.deleted_at is null
     where b.paddle_subscription_id = p_subscription_id;
    if found_id is not null then
      return found_id;
    end if;
    select b.workspace_id into found_id
      from public.billing_accounts b join public.workspaces w on w.id = b.workspace_id and w.deleted_at is null
     where b.paddle_customer_id = p_data ->> 'customer_id';
    return found_id;
  end
  $$;
revoke execute on function private.paddle_event_workspace(jsonb, text) from public, anon, authenticated;

-- Applies one Paddle event to its workspace's billing account; returns the outcome, or raises
-- with the reason (the caller records it on the row). Acted on: subscription.* events (the
-- subscription entity: id, status, customer_id, current_billing_period) and transaction.completed
-- (the transaction: customer_id, subscription_id, billing_period): a completed payment of a
-- subscription makes it active.
create or replace function private.apply_paddle_event(e public.webhook_events) returns text
  language plpgsql volatile set search_path = ''
  as $$
  declare
    data jsonb := e.payload -> 'data';
    is_subscription boolean := e.event_type like 'subscription.%';
    subscription_id text;
    customer_id text := data ->> 'customer_id';
    new_status text;
    period_end timestamptz;
    event_at timestamptz := coalesce(e.occurred_at, e.received_at);
    target uuid;
    account public.billing_accounts;
  begin
    if not (is_subscription or e.event_type = 'transaction.completed') then
      return 'ignored';
    end if;
    if jsonb_typeof(data) is distinct from 'object' then
      raise exception 'invalid_event: no data object';
    end if;
    if is_subscription then
      subscription_id := data ->> 'id';
      new_status := case e.event_type
                      when 'subscription.canceled' then 'canceled'
                      when 'subscription.past_due' then 'past_due'
                      else data ->> 'status' end;
      period_end := (data #>> '{current_billing_period,ends_at}')::timestamptz;
    else
      subscription_id := data ->> 'subscription_id';
      new_status := case when subscription_id is not null then 'active' end;
      period_end := (data #>> '{billing_period,ends_at}')::timestamptz;
    end if;
    if subscription_id is not null and subscription_id !~ '^sub_[a-z0-9]{1,64}$' then
      raise exception 'invalid_event: subscription id';
    end if;
    if customer_id is not null and customer_id !~ '^ctm_[a-z0-9]{1,64}$' then
      raise exception 'invalid_event: customer id';
    end if;
    if new_status is not null and new_status not in ('trialing', 'active', 'past_due', 'paused', 'canceled') then
      raise exception 'invalid_event: status %', left(new_status, 40);
    end if;

    target := private.paddle_event_workspace(data, subscription_id);
    account := private.billing_account_for_update(target);
    if event_at <= coalesce(account.paddle_event_at, '-infinity') then
      return 'stale';
    end if;
    -- A checkout naming someone else's workspace must not take over a live subscription there:
    -- a new subscription replaces the linked one only once that one has ended.
    if subscription_id is not null and account.paddle_subscription_id is not null
       and subscription_id <> account.paddle_subscription_id
       and account.status not in ('none', 'canceled') then
      raise exception 'subscription_conflict';
    end if;
    if subscription_id is not null and exists (
         select 1 from public.billing_accounts b
          where b.paddle_subscription_id = subscription_id and b.workspace_id <> target) then
      raise exception 'subscription_conflict';
    end if;

    update public.billing_accounts b
       set paddle_subscription_id = coalesce(subscription_id, b.paddle_subscription_id),
           -- One Paddle customer may pay for several workspaces; the id links the first one only.
           paddle_customer_id = case
             when customer_id is not null and not exists (
                    select 1 from public.billing_accounts o
                     where o.paddle_customer_id = customer_id and o.workspace_id <> target)
             then customer_id else b.paddle_customer_id end,
           status = coalesce(new_status, b.status),
           current_period_end = case when is_subscription or period_end is not null
                                     then period_end else b.current_period_end end,
           paddle_event_at = event_at,
           updated_at = now()
     where b.workspace_id = target;
    return 'applied';
  end
  $$;
revoke execute on function private.apply_paddle_event(public.webhook_events) from public, anon, authenticated;

-- Processes one stored event unless it is processed already; returns the outcome ('applied',
-- 'stale', 'ignored', 'filed', 'unfiled', 'already processed', 'failed: <reason>', or 'awaiting
-- payment fetch' for Mercado Pago, which the function applies itself, see 0026). Whatever
-- processing raises is recorded on the row as the failure reason; nothing is lost and the
-- replay tries again.
create or replace function public.process_webhook_event(p_provider text, p_event_id text) returns text
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    e public.webhook_events;
    outcome text;
  begin
    perform private.assert_service_role();
    e := private.webhook_event_for_update(p_provider, p_event_id);
    if e.status = 'processed' then
      return 'already processed';
    end if;
    case e.provider
      when 'paddle' then
        begin
          outcome := private.apply_paddle_event(e);
        exception when others then
          return private.finish_webhook_event(e.id, false, sqlerrm);
        end;
      when 'meta' then
        outcome := case when e.workspace_id is null then 'unfiled' else 'filed' end;
      when 'mercadopago' then
        -- Without a signed data.id there is nothing Mercado Pago vouched for to fetch.
        if e.resource_id is null then
          outcome := 'ignored';
        else
          return 'awaiting payment fetch';
        end if;
      else
        outcome := 'ignored';
    end case;
    return private.finish_webhook_event(e.id, true, outcome);
  end
  $$;
revoke execute on function public.process_webhook_event(text, text) from public, anon, authenticated;
grant execute on function public.process_webhook_event(text, text) to service_role;

-- The replay: processes up to p_limit events not processed yet (least recently tried first) and
-- returns each one's outcome. A failed event waits before it is tried again (1 minute, doubling
-- per attempt, at most 6 hours), so a run right after another changes nothing. Mercado Pago events come back as 'awaiting payment fetch' with their
-- signed resource id: the caller fetches each payment and applies it (0026).
create or replace function public.replay_webhook_events(p_limit integer)
  returns table (provider text, event_id text, resource_id text, outcome text)
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    e record;
  begin
    perform private.assert_service_role();
    if p_limit is null or p_limit not between 1 and 1000 then
      raise exception 'the limit must be 1 to 1000' using errcode = '22023';
    end if;
    for e in
      select w.provider, w.event_id, w.resource_id from public.webhook_events w
       where w.status = 'received'
          or (w.status = 'failed'
              and w.processed_at < now() - least(interval '6 hours',
                                                 interval '1 minute' * power(2, least(w.processing_attempts, 20))))
       order by w.processed_at nulls first, w.id
       limit p_limit
    loop
      provider := e.provider;
      event_id := e.event_id;
      resource_id := e.resource_id;
      outcome := public.process_webhook_event(e.provider, e.event_id);
      return next;
    end loop;
  end
  $$;
revoke execute on function public.replay_webhook_events(integer) from public, anon, authenticated;
grant execute on function public.replay_webhook_events(integer) to service_role;
