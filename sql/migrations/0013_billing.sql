-- Why: what each tenant pays with. Paddle and Mercado Pago identify the customer and subscription
-- by their own ids; webhooks from either provider must find the workspace they concern and
-- update its status. One row per workspace, created with the workspace. Owners and admins read
-- it; no API role writes it (provider webhooks will, through a privileged function).
create table if not exists public.billing_accounts (
  workspace_id uuid primary key references public.workspaces (id) on delete cascade,
  paddle_customer_id text unique check (paddle_customer_id ~ '^ctm_[a-z0-9]{1,64}$'),
  paddle_subscription_id text unique check (paddle_subscription_id ~ '^sub_[a-z0-9]{1,64}$'),
  mercadopago_customer_id text unique check (length(mercadopago_customer_id) between 1 and 64),
  mercadopago_subscription_id text unique check (length(mercadopago_subscription_id) between 1 and 64),
  status text not null default 'none'
    check (status in ('none', 'trialing', 'active', 'past_due', 'paused', 'canceled')),
  current_period_end timestamptz,
  updated_at timestamptz not null default now()
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.billing_accounts is $$What a workspace pays with: owners and admins read it; no API role writes it.
rls-matrix: tenant=workspace_id select=admin,owner insert=none update=none delete=none truncate=none$$;

create or replace function private.open_billing_account() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    insert into public.billing_accounts (workspace_id) values (new.id)
      on conflict (workspace_id) do nothing;
    return null;
  end
  $$;

revoke execute on function private.open_billing_account() from public, anon, authenticated;
drop trigger if exists workspaces_open_billing_account on public.workspaces;
create trigger workspaces_open_billing_account after insert on public.workspaces
  for each row execute function private.open_billing_account();
-- Workspaces created before this migration get their row too.
insert into public.billing_accounts (workspace_id) select id from public.workspaces
  on conflict (workspace_id) do nothing;

alter table public.billing_accounts enable row level security;
alter table public.billing_accounts force row level security;
revoke all on public.billing_accounts from anon, authenticated, service_role;
grant select on public.billing_accounts to authenticated;

drop policy if exists billing_accounts_select_manager on public.billing_accounts;
create policy billing_accounts_select_manager on public.billing_accounts
  for select to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));
