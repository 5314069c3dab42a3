-- Why: every provider delivery is stored once, keyed by the provider's event id, before it is
-- acted on: a retry of a stored event changes nothing, and the raw bytes stay for replay/audit.
-- Only the platform's service role writes here; users have no grant at all.
create table if not exists public.webhook_events (
  id bigint generated always as identity primary key,
  provider text not null check (provider in ('paddle', 'meta', 'mercadopago')),
  event_id text not null check (length(event_id) between 1 and 200),
  event_type text not null,
  occurred_at timestamptz,
  payload jsonb not null,
  raw_body text not null,
  status text not null default 'received' check (status in ('received', 'processed', 'failed')),
  attempts integer not null default 1,
  received_at timestamptz not null default now(),
  unique (provider, event_id)
);
create index if not exists webhook_events_retention_idx on public.webhook_events (status, received_at);

alter table public.webhook_events enable row level security;
alter table public.webhook_events force row level security;

-- service_role bypasses RLS (as on Supabase); the grant is what limits it to these commands.
grant select, insert, update, delete on public.webhook_events to service_role;
