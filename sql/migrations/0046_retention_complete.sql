-- Why: the security pages promise audit entries are kept 18 months, then purged, and the trail's
-- append-only rule made that impossible; rate-limit windows were never purged either (issue 9).
-- The append-only trigger now lets exactly two privileged jobs through, each announcing itself
-- with a transaction-local flag it clears again: the audit purge (rows past retention) and the
-- account purge (0045: pseudonymising a deleted user). Every other UPDATE or DELETE, the table
-- owner's included, and any TRUNCATE are still refused (API roles hold no such grant at all).
-- Both jobs record their runs in cron_runs; their periods are the cron function's configuration.
create or replace function private.refuse_audit_rewrite() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    if tg_level = 'ROW'
       and ((tg_op = 'DELETE' and current_setting('rls_edge.audit_rewrite', true) = 'retention')
            or (tg_op = 'UPDATE' and current_setting('rls_edge.audit_rewrite', true) = 'account_purge')) then
      return coalesce(new, old);
    end if;
    raise exception 'audit_log is append-only' using errcode = '42501';
  end
  $$;
revoke execute on function private.refuse_audit_rewrite() from public, anon, authenticated;

-- Deletes audit entries older than the retention period (the issue's 18 months by default, set by
-- the caller) and records the run. Returns how many entries were purged.
create or replace function public.purge_audit_log(p_retention interval, p_trigger text) returns bigint
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    purged bigint;
  begin
    perform private.check_job_call(p_retention, p_trigger);
    perform set_config('rls_edge.audit_rewrite', 'retention', true);
    delete from public.audit_log where created_at < now() - p_retention;
    get diagnostics purged = row_count;
    perform set_config('rls_edge.audit_rewrite', '', true);
    insert into public.cron_runs (job, trigger, rows_affected)
      values ('purge_audit_log', p_trigger, purged);
    return purged;
  end
  $$;
revoke execute on function public.purge_audit_log(interval, text) from public, anon, authenticated;
grant execute on function public.purge_audit_log(interval, text) to service_role;

-- Deletes rate-limit windows that started longer ago than the retention period (a window lasts
-- at most a day, so anything older only takes space) and records the run.
create or replace function public.purge_rate_limit_windows(p_retention interval, p_trigger text) returns bigint
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    purged bigint;
  begin
    perform private.check_job_call(p_retention, p_trigger);
    delete from public.rate_limit_counters where window_start < now() - p_retention;
    get diagnostics purged = row_count;
    insert into public.cron_runs (job, trigger, rows_affected)
      values ('purge_rate_limit_windows', p_trigger, purged);
    return purged;
  end
  $$;
revoke execute on function public.purge_rate_limit_windows(interval, text) from public, anon, authenticated;
grant execute on function public.purge_rate_limit_windows(interval, text) to service_role;
