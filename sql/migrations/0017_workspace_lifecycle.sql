-- Why: the deletion grace period and the audit trail were only as good as the values a client sent.
-- Closed here:
--   * an owner could write any `deleted_at` (e.g. a year ago) and have the next purge remove the
--     workspace at once, skipping the grace period: a user's write now always records the
--     server's clock, an existing deletion time cannot be moved, and a restore is refused once
--     the grace period is over;
--   * audit_log has no foreign key (the trail outlives a purged workspace), so anyone who
--     re-created a purged workspace's id became its owner and read the old trail: an id with
--     audit history is never used again for a new workspace.
-- The grace period is one SQL function, so the restore check and the API share it (the purge
-- job takes its own, SOFT_DELETE_GRACE_DAYS, default the same 30 days).
create or replace function private.soft_delete_grace() returns interval
  language sql immutable set search_path = ''
  as $$ select interval '30 days' $$;
revoke execute on function private.soft_delete_grace() from public, anon;
grant execute on function private.soft_delete_grace() to authenticated;

-- Beside 0004's check (only an owner at aal2 changes deleted_at), for users only: the purge job
-- and maintenance as the table owner keep full control.
create or replace function private.keep_deletion_time_honest() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    if new.deleted_at is distinct from old.deleted_at and (select auth.role()) = 'authenticated' then
      if new.deleted_at is not null then
        -- Deleting: the server's clock; deleting again keeps the first deletion time.
        new.deleted_at := coalesce(old.deleted_at, now());
      elsif old.deleted_at <= now() - private.soft_delete_grace() then
        raise exception 'the grace period for restoring this workspace is over' using errcode = '42501';
      end if;
    end if;
    return new;
  end
  $$;
revoke execute on function private.keep_deletion_time_honest() from public, anon, authenticated;
drop trigger if exists workspaces_keep_deletion_time_honest on public.workspaces;
create trigger workspaces_keep_deletion_time_honest before update of deleted_at on public.workspaces
  for each row execute function private.keep_deletion_time_honest();

-- A new workspace may not take an id that already has an audit trail, unless the row itself is
-- still there (then the insert is a duplicate and fails, or does nothing under ON CONFLICT, as the
-- seed's reloads do). The trail is indexed by workspace_id: one index probe per insert.
create or replace function private.refuse_reused_workspace_id() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if exists (select 1 from public.audit_log a where a.workspace_id = new.id)
       and not exists (select 1 from public.workspaces w where w.id = new.id) then
      raise exception 'this workspace id was used before and is never reused' using errcode = '42501';
    end if;
    return new;
  end
  $$;
revoke execute on function private.refuse_reused_workspace_id() from public, anon, authenticated;
drop trigger if exists workspaces_refuse_reused_id on public.workspaces;
create trigger workspaces_refuse_reused_id before insert on public.workspaces
  for each row execute function private.refuse_reused_workspace_id();
