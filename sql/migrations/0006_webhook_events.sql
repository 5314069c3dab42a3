-- Why: every provider delivery is stored once, keyed by the provider's event id, before it is
-- acted on: a retry of a stored event only counts an attempt, and the raw bytes stay for
-- replay/audit. No API role holds a grant on the table: webhooks (as service_role) write through
-- public.record_webhook_event, which checks its own preconditions.
create table if not exists public.webhook_events (
  id bigint generated always as identity primary key,
  provider text not null check (provider in ('paddle', 'meta', 'mercadopago', 'standard_webhooks')),
  event_id text not null check (length(event_id) between 1 and 200),
  event_type text not null check (length(event_type) between 1 and 200),
  occurred_at timestamptz,
  -- The tenant the event concerns, when the function could tell (e.g. Meta's phone_number_id).
  workspace_id uuid references public.workspaces (id) on delete set null,
  payload jsonb not null,
  raw_body text not null,
  status text not null default 'received' check (status in ('received', 'processed', 'failed')),
  attempts integer not null default 1 check (attempts >= 1),
  received_at timestamptz not null default now(),
  unique (provider, event_id)
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.webhook_events is $$Provider deliveries, stored once per event id, through record_webhook_event only.
rls-matrix: service-only tenant=none$$;

create index if not exists webhook_events_retention_idx on public.webhook_events (status, received_at);
create index if not exists webhook_events_workspace_id_idx on public.webhook_events (workspace_id);

alter table public.webhook_events enable row level security;
alter table public.webhook_events force row level security;
revoke all on public.webhook_events from anon, authenticated, service_role;

-- Stores a verified delivery once. Returns true when it was new, false when (provider, event_id)
-- was already stored: then only `attempts` grows, the first stored bytes stay.
create or replace function public.record_webhook_event(
  p_provider text,
  p_event_id text,
  p_event_type text,
  p_occurred_at timestamptz,
  p_payload jsonb,
  p_raw_body text,
  p_workspace_id uuid default null
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
    if p_workspace_id is not null
       and not exists (select 1 from public.workspaces w where w.id = p_workspace_id and w.deleted_at is null) then
      raise exception 'workspace % does not exist', p_workspace_id using errcode = '23503';
    end if;

    insert into public.webhook_events as e
        (provider, event_id, event_type, occurred_at, payload, raw_body, workspace_id)
      values (p_provider, p_event_id, p_event_type, p_occurred_at, p_payload, p_raw_body, p_workspace_id)
      on conflict (provider, event_id) do update set attempts = e.attempts + 1
      -- xmax is 0 only on a freshly inserted row version.
      returning (xmax = 0) into inserted;
    return inserted;
  end
  $$;
revoke execute on function public.record_webhook_event(text, text, text, timestamptz, jsonb, text, uuid)
  from public, anon, authenticated;
grant execute on function public.record_webhook_event(text, text, text, timestamptz, jsonb, text, uuid)
  to service_role;
