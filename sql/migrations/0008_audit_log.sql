-- Why: a tenant's owners and admins must be able to see who changed access to their workspace
-- (members, invitations, share links, API keys, channels, deletion). Rows are written by triggers
-- only and are append-only: API roles may read their workspace's rows and never write, update or
-- delete them. No foreign key to workspaces: the trail outlives a purged workspace.
create table if not exists public.audit_log (
  id bigint generated always as identity primary key,
  workspace_id uuid,
  -- NULL when no user acted (a job, a webhook, a migration).
  actor_id uuid,
  action text not null check (action in ('insert', 'update', 'delete')),
  target_table text not null,
  target_id text,
  -- The row after the change (before, for a delete), secrets' hashes removed.
  details jsonb not null,
  created_at timestamptz not null default now()
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.audit_log is $$Append-only trail of access changes, written by triggers; owners and admins read their workspace's.
rls-matrix: tenant=workspace_id select=admin,owner insert=none update=none delete=none truncate=none$$;

create index if not exists audit_log_workspace_id_idx on public.audit_log (workspace_id, created_at desc);

alter table public.audit_log enable row level security;
alter table public.audit_log force row level security;
revoke all on public.audit_log from anon, authenticated, service_role;
grant select on public.audit_log to authenticated;

drop policy if exists audit_log_select_manager on public.audit_log;
create policy audit_log_select_manager on public.audit_log
  for select to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

-- Row trigger for audited tables. TG_ARGV[0] names the row's tenant column, TG_ARGV[1] the column
-- that identifies the row. SECURITY DEFINER: the caller has no grant on audit_log.
create or replace function private.audit_change() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  declare
    changed jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
  begin
    insert into public.audit_log (workspace_id, actor_id, action, target_table, target_id, details)
      values ((changed ->> tg_argv[0])::uuid, (select auth.uid()), lower(tg_op), tg_table_name,
              changed ->> tg_argv[1], changed - 'token_hash' - 'key_hash');
    return null;
  end
  $$;
revoke execute on function private.audit_change() from public, anon, authenticated;

-- Append-only for everyone, the table owner included; only the purge of a workspace's own trail
-- would need otherwise, and the trail is meant to outlive it.
create or replace function private.refuse_audit_rewrite() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    raise exception 'audit_log is append-only' using errcode = '42501';
  end
  $$;
revoke execute on function private.refuse_audit_rewrite() from public, anon, authenticated;
drop trigger if exists audit_log_append_only on public.audit_log;
create trigger audit_log_append_only before update or delete on public.audit_log
  for each row execute function private.refuse_audit_rewrite();
drop trigger if exists audit_log_no_truncate on public.audit_log;
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function private.refuse_audit_rewrite();

drop trigger if exists workspaces_audit on public.workspaces;
create trigger workspaces_audit after update of deleted_at on public.workspaces
  for each row execute function private.audit_change('id', 'id');
drop trigger if exists memberships_audit on public.memberships;
create trigger memberships_audit after insert or update or delete on public.memberships
  for each row execute function private.audit_change('workspace_id', 'user_id');
