-- Why: what members show each other (name, avatar). One row per user, keyed by the auth user id,
-- written only by that user; readable by the user and by people who share a workspace with them.
-- Not tenant-scoped: a user is one person across workspaces.
create table if not exists public.profiles (
  id uuid primary key default auth.uid(),
  display_name text not null check (length(display_name) between 1 and 100),
  avatar_url text check (avatar_url is null or (avatar_url ~ '^https://' and length(avatar_url) <= 2000)),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.profiles is $$One per user: written by that user, read by them and their co-members. No API delete. Each user
inserts their own once: the matrix's insert copy repeats the victim owner's id, which nobody may insert.
rls-matrix: tenant=user:id select=member,creator:id insert=none update=creator:id delete=none truncate=none$$;

-- Users who share at least one live workspace with the caller (the caller included).
create or replace function private.co_member_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select distinct m.user_id from public.memberships m
     where m.workspace_id = any (array(select private.current_workspace_ids()))
  $$;

revoke execute on function private.co_member_ids() from public, anon;
grant execute on function private.co_member_ids() to authenticated;

alter table public.profiles enable row level security;
alter table public.profiles force row level security;
revoke all on public.profiles from anon, authenticated, service_role;
grant select, insert (id, display_name, avatar_url), update (display_name, avatar_url, updated_at)
  on public.profiles to authenticated;

drop policy if exists profiles_select_self_or_co_member on public.profiles;
create policy profiles_select_self_or_co_member on public.profiles
  for select to authenticated
  using (id = (select auth.uid()) or id = any (array(select private.co_member_ids())));

drop policy if exists profiles_insert_self on public.profiles;
create policy profiles_insert_self on public.profiles
  for insert to authenticated
  with check (id = (select auth.uid()));

drop policy if exists profiles_update_self on public.profiles;
create policy profiles_update_self on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));
