-- Why: the tenant boundary. A workspace is a tenant; a user reaches a workspace's rows only through
-- a membership, whose role (owner, admin, member) decides what they may manage. Users live in
-- Supabase's auth.users (absent locally), so user ids are bare uuids. A deleted workspace stays
-- restorable by its owners for a grace period (deleted_at), then the purge job removes it.
create table if not exists public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.workspaces is $$A tenant. Members read it; owners and admins rename it; any signed-in user creates one and
becomes its owner (trigger); only an owner at aal2 soft-deletes it (trigger); no API role deletes it.
rls-matrix: tenant=id select=member insert=authenticated update=admin,owner delete=none truncate=none fresh=id$$;

-- The purge job scans by deletion time.
create index if not exists workspaces_deleted_at_idx on public.workspaces (deleted_at) where deleted_at is not null;

create table if not exists public.memberships (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  user_id uuid not null,
  role text not null check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.memberships is $$Who belongs to which workspace, with which role. Members read; owners and admins change roles and
remove people, only an owner touches an owner's row; a member may leave; joining is through an
invitation (0010: exercised by pgTAP, the matrix's insert copies name no invited user); the last owner
cannot be removed.
rls-matrix: tenant=workspace_id rows=role:owner select=member insert=none update=owner delete=none truncate=none
rls-matrix: rows=role:admin select=member insert=none update=admin,owner delete=admin,owner,creator:user_id truncate=none
rls-matrix: rows=role:member select=member insert=none update=admin,owner delete=admin,owner,creator:user_id truncate=none$$;

-- The helpers filter memberships by user first: that column leads its own index.
create index if not exists memberships_user_id_idx on public.memberships (user_id, workspace_id);

-- The caller's workspaces, by what the caller may do there. SECURITY DEFINER so that reading
-- memberships inside a policy does not recurse through memberships' own policies; search_path
-- pinned to ''. Policies call them as `col = any (array(select private.…()))`: one call per statement,
-- and the comparison stays indexable (an `in (select …)` under an OR forces a sequential scan).
create or replace function private.current_workspace_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select m.workspace_id
      from public.memberships m
      join public.workspaces w on w.id = m.workspace_id
     where m.user_id = (select auth.uid()) and w.deleted_at is null
  $$;

-- Where the caller is owner or admin: they manage members, invitations, share links, API keys,
-- channels.
create or replace function private.managed_workspace_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select m.workspace_id
      from public.memberships m
      join public.workspaces w on w.id = m.workspace_id
     where m.user_id = (select auth.uid()) and m.role in ('owner', 'admin') and w.deleted_at is null
  $$;

-- Where the caller is owner, deleted workspaces included: only owners delete and restore.
create or replace function private.owned_workspace_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select m.workspace_id from public.memberships m
     where m.user_id = (select auth.uid()) and m.role = 'owner'
  $$;

revoke execute on function private.current_workspace_ids() from public, anon;
revoke execute on function private.managed_workspace_ids() from public, anon;
revoke execute on function private.owned_workspace_ids() from public, anon;
grant execute on function private.current_workspace_ids() to authenticated;
grant execute on function private.managed_workspace_ids() to authenticated;
grant execute on function private.owned_workspace_ids() to authenticated;

-- The creator of a workspace becomes its owner, in the same statement: nobody else could grant
-- that first membership. (A client that inserts and wants the row back reads it afterwards, or
-- sends `Prefer: return=minimal`: RETURNING is checked before this trigger has run.)
create or replace function private.make_creator_owner() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if new.created_by is not null then
      insert into public.memberships (workspace_id, user_id, role)
        values (new.id, new.created_by, 'owner')
        on conflict (workspace_id, user_id) do nothing;
    end if;
    return null;
  end
  $$;
revoke execute on function private.make_creator_owner() from public, anon, authenticated;
drop trigger if exists workspaces_creator_is_owner on public.workspaces;
create trigger workspaces_creator_is_owner after insert on public.workspaces
  for each row execute function private.make_creator_owner();

-- Admins may rename; only an owner, with a second factor (aal2), deletes or restores (deleted_at).
create or replace function private.guard_workspace_deletion() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if new.deleted_at is distinct from old.deleted_at and (select auth.role()) = 'authenticated' then
      if not (old.id = any (array(select private.owned_workspace_ids()))) then
        raise exception 'only an owner deletes or restores a workspace' using errcode = '42501';
      end if;
      if (select auth.jwt() ->> 'aal') is distinct from 'aal2' then
        raise exception 'deleting or restoring a workspace needs a second factor (aal2)'
          using errcode = '42501';
      end if;
    end if;
    return new;
  end
  $$;
revoke execute on function private.guard_workspace_deletion() from public, anon, authenticated;
drop trigger if exists workspaces_guard_deletion on public.workspaces;
create trigger workspaces_guard_deletion before update of deleted_at on public.workspaces
  for each row execute function private.guard_workspace_deletion();

-- A workspace always keeps an owner (removing or demoting the last one is refused), except when
-- the workspace itself is being removed.
create or replace function private.keep_an_owner() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if old.role = 'owner'
       and (tg_op = 'DELETE' or new.role <> 'owner')
       and exists (select 1 from public.workspaces w where w.id = old.workspace_id)
       and not exists (
         select 1 from public.memberships m
          where m.workspace_id = old.workspace_id and m.role = 'owner' and m.user_id <> old.user_id)
    then
      raise exception 'a workspace keeps at least one owner' using errcode = '42501';
    end if;
    return coalesce(new, old);
  end
  $$;
revoke execute on function private.keep_an_owner() from public, anon, authenticated;
drop trigger if exists memberships_keep_an_owner on public.memberships;
create trigger memberships_keep_an_owner before update of role or delete on public.memberships
  for each row execute function private.keep_an_owner();

alter table public.workspaces enable row level security;
alter table public.workspaces force row level security;
alter table public.memberships enable row level security;
alter table public.memberships force row level security;

revoke all on public.workspaces, public.memberships from anon, authenticated, service_role;
-- No DELETE on workspaces: an owner deletes by setting deleted_at (restorable); the purge job
-- removes the row after the grace period. Members join through invitations (0010).
grant select, insert (id, name), update (name, deleted_at) on public.workspaces to authenticated;
grant select, update (role), delete on public.memberships to authenticated;

drop policy if exists workspaces_select_member on public.workspaces;
create policy workspaces_select_member on public.workspaces
  for select to authenticated
  using (id = any (array(select private.current_workspace_ids())) or id = any (array(select private.owned_workspace_ids())));

drop policy if exists workspaces_insert_as_creator on public.workspaces;
create policy workspaces_insert_as_creator on public.workspaces
  for insert to authenticated
  with check (created_by = (select auth.uid()));

drop policy if exists workspaces_update_manager on public.workspaces;
create policy workspaces_update_manager on public.workspaces
  for update to authenticated
  using (id = any (array(select private.managed_workspace_ids())) or id = any (array(select private.owned_workspace_ids())))
  with check (id = any (array(select private.managed_workspace_ids())) or id = any (array(select private.owned_workspace_ids())));

drop policy if exists memberships_select_same_workspace on public.memberships;
create policy memberships_select_same_workspace on public.memberships
  for select to authenticated
  using (workspace_id = any (array(select private.current_workspace_ids())));

-- Owners and admins change roles; only an owner touches an owner's row or makes an owner.
drop policy if exists memberships_update_manager on public.memberships;
create policy memberships_update_manager on public.memberships
  for update to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids()))
         and (role <> 'owner' or workspace_id = any (array(select private.owned_workspace_ids()))))
  with check (workspace_id = any (array(select private.managed_workspace_ids()))
              and (role <> 'owner' or workspace_id = any (array(select private.owned_workspace_ids()))));

-- A member leaves on their own; owners and admins remove others (an owner only by an owner).
drop policy if exists memberships_delete_self_or_manager on public.memberships;
create policy memberships_delete_self_or_manager on public.memberships
  for delete to authenticated
  using ((user_id = (select auth.uid()) and role <> 'owner')
         or (workspace_id = any (array(select private.managed_workspace_ids()))
             and (role <> 'owner' or workspace_id = any (array(select private.owned_workspace_ids())))));
