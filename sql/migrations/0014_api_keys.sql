-- Why: server-to-server callers of a workspace authenticate with API keys. The key is shown once
-- at creation; only its public prefix (to find the row) and its sha256 (to check it) are stored.
-- Keys are revoked, never edited or deleted, so the audit trail can always name them. Owners and
-- admins manage them, and only with a second factor (aal2): a stolen password alone cannot mint a
-- long-lived credential.
create table if not exists public.api_keys (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  prefix text not null unique check (prefix ~ '^[A-Za-z0-9_]{8,32}$'),
  key_hash bytea not null unique check (length(key_hash) = 32),
  scopes text[] not null default '{}'
    check (scopes <@ array['notes:read', 'notes:write', 'webhooks:read']::text[]),
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.api_keys is $$A workspace's API keys: owners and admins at aal2 read, create, rename and revoke them; never deleted.
rls-matrix: tenant=workspace_id select=admin,owner insert=admin,owner update=admin,owner delete=none truncate=none$$;

create index if not exists api_keys_workspace_id_idx on public.api_keys (workspace_id);

alter table public.api_keys enable row level security;
alter table public.api_keys force row level security;
revoke all on public.api_keys from anon, authenticated, service_role;
grant select, insert (id, workspace_id, name, prefix, key_hash, scopes, expires_at), update (name, revoked_at)
  on public.api_keys to authenticated;

drop policy if exists api_keys_select_manager on public.api_keys;
create policy api_keys_select_manager on public.api_keys
  for select to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

drop policy if exists api_keys_insert_manager on public.api_keys;
create policy api_keys_insert_manager on public.api_keys
  for insert to authenticated
  with check (workspace_id = any (array(select private.managed_workspace_ids())) and created_by = (select auth.uid()));

drop policy if exists api_keys_update_manager on public.api_keys;
create policy api_keys_update_manager on public.api_keys
  for update to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())))
  with check (workspace_id = any (array(select private.managed_workspace_ids())));

-- Supabase's MFA template: RESTRICTIVE, so it narrows every permissive policy above. The helper
-- alone is wrapped in `select` (the form splinter's auth_rls_initplan lint recognises).
drop policy if exists api_keys_require_aal2 on public.api_keys;
create policy api_keys_require_aal2 on public.api_keys
  as restrictive for all to authenticated
  using (((select auth.jwt()) ->> 'aal') = 'aal2')
  with check (((select auth.jwt()) ->> 'aal') = 'aal2');

drop trigger if exists api_keys_audit on public.api_keys;
create trigger api_keys_audit after insert or update or delete on public.api_keys
  for each row execute function private.audit_change('workspace_id', 'id');
