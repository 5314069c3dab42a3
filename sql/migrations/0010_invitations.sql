-- Why: members join a workspace only by accepting an invitation an owner or admin sent. The
-- invitation's token is a secret mailed to the invitee: only its sha256 is stored, it expires,
-- and it is bound to the invitee's e-mail. Accepting is a plain INSERT into memberships, checked
-- by RLS: the invitee sends the raw token in the `x-invitation-token` request header (PostgREST
-- copies headers into `request.headers`), and a trigger marks the invitation accepted.
create table if not exists public.invitations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$' and length(email) <= 320),
  -- Owners are made by an owner changing a member's role, never by an invitation.
  role text not null default 'member' check (role in ('admin', 'member')),
  token_hash bytea not null unique check (length(token_hash) = 32),
  invited_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid,
  check (expires_at > created_at and expires_at <= created_at + interval '30 days')
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.invitations is $$Invitations to a workspace, managed by its owners and admins; withdrawn by deleting.
rls-matrix: tenant=workspace_id select=admin,owner insert=admin,owner update=none delete=admin,owner truncate=none fresh=id,token_hash,expires_at$$;

create index if not exists invitations_workspace_id_idx on public.invitations (workspace_id);

-- The invitation the caller's `x-invitation-token` header opens: unexpired, not yet accepted, for
-- the caller's e-mail, in a live workspace.
create or replace function private.invitations_for_caller() returns table (workspace_id uuid, role text)
  language sql stable security definer set search_path = ''
  as $$
    select i.workspace_id, i.role
      from public.invitations i
      join public.workspaces w on w.id = i.workspace_id
     where i.token_hash = private.request_header_sha256('x-invitation-token')
       and i.accepted_at is null
       and i.expires_at > now()
       and lower(i.email) = lower((select auth.email()))
       and w.deleted_at is null
  $$;
revoke execute on function private.invitations_for_caller() from public, anon;
grant execute on function private.invitations_for_caller() to authenticated;

create or replace function private.mark_invitation_accepted() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    update public.invitations i
       set accepted_at = now(), accepted_by = new.user_id
     where i.workspace_id = new.workspace_id
       and i.token_hash = private.request_header_sha256('x-invitation-token')
       and i.accepted_at is null;
    return null;
  end
  $$;
revoke execute on function private.mark_invitation_accepted() from public, anon, authenticated;
drop trigger if exists memberships_accept_invitation on public.memberships;
create trigger memberships_accept_invitation after insert on public.memberships
  for each row execute function private.mark_invitation_accepted();

alter table public.invitations enable row level security;
alter table public.invitations force row level security;
revoke all on public.invitations from anon, authenticated, service_role;
-- No UPDATE: an invitation is withdrawn by deleting it.
grant select, insert (id, workspace_id, email, role, token_hash, expires_at), delete
  on public.invitations to authenticated;
grant insert (workspace_id, user_id, role) on public.memberships to authenticated;

drop policy if exists invitations_select_manager on public.invitations;
create policy invitations_select_manager on public.invitations
  for select to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

drop policy if exists invitations_insert_manager on public.invitations;
create policy invitations_insert_manager on public.invitations
  for insert to authenticated
  with check (workspace_id = any (array(select private.managed_workspace_ids())) and invited_by = (select auth.uid()));

drop policy if exists invitations_delete_manager on public.invitations;
create policy invitations_delete_manager on public.invitations
  for delete to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

-- Joining: only as oneself, into the workspace and with the role the invitation names.
drop policy if exists memberships_insert_invited_self on public.memberships;
create policy memberships_insert_invited_self on public.memberships
  for insert to authenticated
  with check (
    user_id = (select auth.uid())
    and (workspace_id, role) in (select i.workspace_id, i.role from private.invitations_for_caller() i)
  );

drop trigger if exists invitations_audit on public.invitations;
create trigger invitations_audit after insert or update or delete on public.invitations
  for each row execute function private.audit_change('workspace_id', 'id');
