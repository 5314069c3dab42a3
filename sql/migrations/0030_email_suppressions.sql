-- Why: an address that hard-bounced or whose recipient complained must not be mailed again by
-- the tenant that sent to it (the e-mail provider suspends senders who keep doing so). The
-- provider's delivery events (Resend, signed the Standard Webhooks way) are stored in
-- webhook_events first; this table is what they mean for the tenant: one row per
-- (workspace, address, reason), readable by the workspace's members, written only through
-- public.record_email_suppressions by the webhook (service_role).
create table if not exists public.email_suppressions (
  id bigint generated always as identity primary key,
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  address text not null check (length(address) between 3 and 320 and position('@' in address) > 1),
  reason text not null check (reason in ('bounced', 'complained')),
  -- The provider's id of the e-mail that bounced, and the delivery that reported it.
  email_id text check (length(email_id) between 1 and 200),
  webhook_id text not null check (length(webhook_id) between 1 and 200),
  occurred_at timestamptz,
  recorded_at timestamptz not null default now(),
  unique (workspace_id, address, reason)
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.email_suppressions is $$Addresses a workspace must not mail again (bounced, complained): members read, only the e-mail webhook writes.
rls-matrix: tenant=workspace_id select=member insert=none update=none delete=none truncate=none$$;

alter table public.email_suppressions enable row level security;
alter table public.email_suppressions force row level security;
revoke all on public.email_suppressions from anon, authenticated, service_role;
grant select on public.email_suppressions to authenticated;

drop policy if exists email_suppressions_select_member on public.email_suppressions;
create policy email_suppressions_select_member on public.email_suppressions
  for select to authenticated
  using (workspace_id = any (array(select private.current_workspace_ids())));

-- For the e-mail webhook (service_role, no table grants): the workspace a delivery names, when it
-- is a live workspace, else NULL (the delivery is then stored under no tenant).
create or replace function public.live_workspace(p_workspace_id uuid) returns uuid
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    perform private.assert_service_role();
    return (select w.id from public.workspaces w where w.id = p_workspace_id and w.deleted_at is null);
  end
  $$;
revoke execute on function public.live_workspace(uuid) from public, anon, authenticated;
grant execute on function public.live_workspace(uuid) to service_role;

-- Records each address once per (workspace, reason); a later report of the same address keeps
-- the first row. Returns how many addresses were new.
create or replace function public.record_email_suppressions(
  p_workspace_id uuid,
  p_addresses text[],
  p_reason text,
  p_email_id text,
  p_webhook_id text,
  p_occurred_at timestamptz
) returns integer
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    added integer;
  begin
    perform private.assert_service_role();
    if p_workspace_id is null
       or not exists (select 1 from public.workspaces w where w.id = p_workspace_id and w.deleted_at is null) then
      raise exception 'workspace % does not exist', p_workspace_id using errcode = '23503';
    end if;
    if p_reason is null or p_reason not in ('bounced', 'complained') then
      raise exception 'unknown suppression reason %', p_reason using errcode = '22023';
    end if;
    insert into public.email_suppressions (workspace_id, address, reason, email_id, webhook_id, occurred_at)
      select p_workspace_id, lower(a), p_reason, p_email_id, p_webhook_id, p_occurred_at
        from unnest(p_addresses) as a
       where a is not null and length(a) between 3 and 320 and position('@' in a) > 1
      on conflict (workspace_id, address, reason) do nothing;
    get diagnostics added = row_count;
    return added;
  end
  $$;
revoke execute on function public.record_email_suppressions(uuid, text[], text, text, text, timestamptz)
  from public, anon, authenticated;
grant execute on function public.record_email_suppressions(uuid, text[], text, text, text, timestamptz)
  to service_role;
