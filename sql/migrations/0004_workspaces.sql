-- Why: the tenant boundary. A workspace is a tenant; a user reaches a workspace's rows only through
-- a membership. Users live in Supabase's auth.users (absent locally), so user_id is a bare uuid.
create table if not exists public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

create table if not exists public.memberships (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null,
  role text not null check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
-- Policies filter memberships by user first: that column leads its own index.
create index if not exists memberships_user_id_idx on public.memberships (user_id, workspace_id);

-- The set of workspaces the calling user belongs to. SECURITY DEFINER so that reading memberships
-- inside a policy does not recurse through memberships' own policy; search_path pinned to ''.
create or replace function private.current_workspace_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select m.workspace_id from public.memberships m where m.user_id = (select auth.uid())
  $$;
revoke execute on function private.current_workspace_ids() from public, anon;
grant execute on function private.current_workspace_ids() to authenticated;

alter table public.workspaces enable row level security;
alter table public.workspaces force row level security;
alter table public.memberships enable row level security;
alter table public.memberships force row level security;

grant select on public.workspaces to authenticated;
grant select on public.memberships to authenticated;

drop policy if exists workspaces_select_member on public.workspaces;
create policy workspaces_select_member on public.workspaces
  for select to authenticated
  using (id in (select private.current_workspace_ids()));

drop policy if exists memberships_select_same_workspace on public.memberships;
create policy memberships_select_same_workspace on public.memberships
  for select to authenticated
  using (workspace_id in (select private.current_workspace_ids()));
