-- Why: every call that costs the platform money (an LLM answer, a stored file, an embedding, an
-- outbound message) must fit a per-tenant budget that holds across every edge isolate at once.
-- The limits per period come from the workspace's plan (derived from its billing state) and are
-- configuration as data. Spending is two steps: `private.reserve_budget` takes the most a call can
-- cost before the call (refused when reserved + spent + amount would pass the limit: the usage
-- row's lock makes parallel reservations queue, so they cannot overshoot together), and
-- `private.settle_budget` books what the call really cost and releases the rest (0 for a failed
-- call). A reservation nobody settles (the isolate died mid-call) is charged in full once it
-- expires, so a crash never hands budget back. Owners and admins read their usage under RLS.

-- Units per meter: ai and embedding in tokens, file in bytes, sending in messages.
create table if not exists private.budget_plan_limits (
  plan text not null check (plan ~ '^[a-z][a-z0-9_]{0,39}$'),
  meter text not null check (meter in ('ai', 'file', 'embedding', 'sending')),
  period text not null check (period in ('day', 'month')),
  limit_amount bigint not null check (limit_amount >= 0),
  primary key (plan, meter)
);
revoke all on private.budget_plan_limits from public, anon, authenticated, service_role;

-- Which plan a billing status puts a workspace on (a paying or trialing workspace is on `pro`).
create table if not exists private.budget_plan_by_billing_status (
  billing_status text primary key
    check (billing_status in ('none', 'trialing', 'active', 'past_due', 'paused', 'canceled')),
  plan text not null
);
revoke all on private.budget_plan_by_billing_status from public, anon, authenticated, service_role;

insert into private.budget_plan_limits (plan, meter, period, limit_amount) values
  ('free', 'ai', 'month', 50000),
  ('free', 'file', 'month', 104857600),
  ('free', 'embedding', 'month', 100000),
  ('free', 'sending', 'day', 100),
  ('pro', 'ai', 'month', 2000000),
  ('pro', 'file', 'month', 10737418240),
  ('pro', 'embedding', 'month', 5000000),
  ('pro', 'sending', 'day', 5000)
on conflict (plan, meter) do nothing;

insert into private.budget_plan_by_billing_status (billing_status, plan) values
  ('none', 'free'), ('canceled', 'free'), ('paused', 'free'),
  ('trialing', 'pro'), ('active', 'pro'), ('past_due', 'pro')
on conflict (billing_status) do nothing;

create table if not exists public.budget_usage (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  meter text not null check (meter in ('ai', 'file', 'embedding', 'sending')),
  period_start timestamptz not null,
  period_end timestamptz not null check (period_end > period_start),
  -- The plan's limit when this row was last reserved against (the plan can change mid-period).
  limit_amount bigint not null check (limit_amount >= 0),
  reserved bigint not null default 0 check (reserved >= 0),
  spent bigint not null default 0 check (spent >= 0),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, meter, period_start)
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.budget_usage is $$What a workspace spent and holds reserved per meter and period: owners and admins read it; only reserve_budget and settle_budget write it.
rls-matrix: tenant=workspace_id select=admin,owner insert=none update=none delete=none truncate=none$$;

alter table public.budget_usage enable row level security;
alter table public.budget_usage force row level security;
revoke all on public.budget_usage from anon, authenticated, service_role;
grant select on public.budget_usage to authenticated;

drop policy if exists budget_usage_select_manager on public.budget_usage;
create policy budget_usage_select_manager on public.budget_usage
  for select to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

-- Open reservations only: settling deletes the row.
create table if not exists private.budget_reservations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  meter text not null,
  period_start timestamptz not null,
  amount bigint not null check (amount > 0),
  expires_at timestamptz not null default now() + interval '10 minutes',
  foreign key (workspace_id, meter, period_start)
    references public.budget_usage (workspace_id, meter, period_start) on delete cascade
);
create index if not exists budget_reservations_expiry_idx
  on private.budget_reservations (workspace_id, meter, expires_at);
revoke all on private.budget_reservations from public, anon, authenticated, service_role;

-- The plan a workspace's billing state puts it on (`free` without a billing account).
create or replace function private.workspace_budget_plan(p_workspace uuid) returns text
  language sql stable security definer set search_path = ''
  as $$
    select coalesce((select p.plan
                       from public.billing_accounts b
                       join private.budget_plan_by_billing_status p on p.billing_status = b.status
                      where b.workspace_id = p_workspace), 'free')
  $$;
revoke execute on function private.workspace_budget_plan(uuid) from public, anon, authenticated;

-- Whether the caller may spend for (or settle in) the workspace: the service role for any live
-- workspace (webhook paths such as WhatsApp replies), a user for a live workspace they belong to.
create or replace function private.may_spend(p_workspace uuid) returns boolean
  language sql stable security definer set search_path = ''
  as $$
    select case when (select auth.role()) = 'service_role'
                then exists (select 1 from public.workspaces w where w.id = p_workspace and w.deleted_at is null)
                else p_workspace = any (array(select private.current_workspace_ids())) end
  $$;
revoke execute on function private.may_spend(uuid) from public, anon, authenticated;

-- Reserves `p_amount` of `p_meter` in the current period; the reservation's id, or NULL when the
-- budget cannot hold it. Runs in the caller's transaction: the usage row stays locked until it
-- commits, so concurrent reservations see each other.
create or replace function private.reserve_budget(p_workspace uuid, p_meter text, p_amount bigint)
  returns uuid
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    limits private.budget_plan_limits;
    started timestamptz;
    reservation uuid;
  begin
    if not private.may_spend(p_workspace) then
      raise exception 'not allowed to spend for this workspace' using errcode = '42501';
    end if;
    if p_amount is null or p_amount < 1 then
      raise exception 'a reservation is at least 1' using errcode = '22023';
    end if;
    select * into limits from private.budget_plan_limits l
     where l.plan = private.workspace_budget_plan(p_workspace) and l.meter = p_meter;
    if not found then
      raise exception 'no limit for meter % on this plan', p_meter using errcode = '22023';
    end if;
    started := date_trunc(limits.period, now(), 'UTC');
    insert into public.budget_usage (workspace_id, meter, period_start, period_end, limit_amount)
      values (p_workspace, p_meter, started, started + ('1 ' || limits.period)::interval, limits.limit_amount)
      on conflict (workspace_id, meter, period_start) do nothing;
    -- Abandoned reservations (never settled) are charged in full.
    with abandoned as (
      delete from private.budget_reservations r
       where r.workspace_id = p_workspace and r.meter = p_meter and r.expires_at < now()
       returning r.period_start, r.amount
    )
    update public.budget_usage u
       set reserved = u.reserved - a.total, spent = u.spent + a.total, updated_at = now()
      from (select period_start, sum(amount)::bigint as total from abandoned group by period_start) a
     where u.workspace_id = p_workspace and u.meter = p_meter and u.period_start = a.period_start;
    update public.budget_usage u
       set reserved = u.reserved + p_amount, limit_amount = limits.limit_amount, updated_at = now()
     where u.workspace_id = p_workspace and u.meter = p_meter and u.period_start = started
       and u.reserved + u.spent + p_amount <= limits.limit_amount;
    if not found then
      return null;
    end if;
    insert into private.budget_reservations (workspace_id, meter, period_start, amount)
      values (p_workspace, p_meter, started, p_amount)
      returning id into reservation;
    return reservation;
  end
  $$;
revoke execute on function private.reserve_budget(uuid, text, bigint) from public, anon;
grant execute on function private.reserve_budget(uuid, text, bigint) to authenticated, service_role;

-- Books `p_spent` (clamped to 0..reserved amount) for a reservation and releases the rest; the
-- amount booked, or NULL when the reservation is not open (settled already, or expired and
-- charged in full).
create or replace function private.settle_budget(p_reservation uuid, p_spent bigint) returns bigint
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    settled private.budget_reservations;
    booked bigint;
  begin
    delete from private.budget_reservations r
     where r.id = p_reservation and r.expires_at >= now() and private.may_spend(r.workspace_id)
     returning * into settled;
    if not found then
      return null;
    end if;
    booked := least(greatest(coalesce(p_spent, 0), 0), settled.amount);
    update public.budget_usage u
       set reserved = u.reserved - settled.amount, spent = u.spent + booked, updated_at = now()
     where u.workspace_id = settled.workspace_id and u.meter = settled.meter
       and u.period_start = settled.period_start;
    return booked;
  end
  $$;
revoke execute on function private.settle_budget(uuid, bigint) from public, anon;
grant execute on function private.settle_budget(uuid, bigint) to authenticated, service_role;

-- The plan's limits for a workspace the caller manages (nothing for anyone else): the usage read
-- shows meters not spent from yet this period too.
create or replace function private.budget_limits_for(p_workspace uuid)
  returns table (plan text, meter text, period text, limit_amount bigint, period_start timestamptz,
                 period_end timestamptz)
  language sql stable security definer set search_path = ''
  as $$
    select l.plan, l.meter, l.period, l.limit_amount, date_trunc(l.period, now(), 'UTC'),
           date_trunc(l.period, now(), 'UTC') + ('1 ' || l.period)::interval
      from private.budget_plan_limits l
     where l.plan = private.workspace_budget_plan(p_workspace)
       and p_workspace = any (array(select private.managed_workspace_ids()))
  $$;
revoke execute on function private.budget_limits_for(uuid) from public, anon;
grant execute on function private.budget_limits_for(uuid) to authenticated;
