-- Why: deleted workspaces and notes stay restorable for a grace period (deleted_at), then must
-- really go: this job removes what was deleted longer ago than the grace period (a workspace
-- takes its members, notes, links, keys and channels with it; the audit trail stays) and records
-- the run in cron_runs. Callable by service_role only (the cron function).
create or replace function public.purge_soft_deleted(p_grace interval, p_trigger text) returns bigint
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    purged_notes bigint;
    purged_workspaces bigint;
  begin
    perform private.check_job_call(p_grace, p_trigger);
    delete from public.notes where deleted_at < now() - p_grace;
    get diagnostics purged_notes = row_count;
    delete from public.workspaces where deleted_at < now() - p_grace;
    get diagnostics purged_workspaces = row_count;
    insert into public.cron_runs (job, trigger, rows_affected)
      values ('purge_soft_deleted', p_trigger, purged_notes + purged_workspaces);
    return purged_notes + purged_workspaces;
  end
  $$;
revoke execute on function public.purge_soft_deleted(interval, text) from public, anon, authenticated;
grant execute on function public.purge_soft_deleted(interval, text) to service_role;
