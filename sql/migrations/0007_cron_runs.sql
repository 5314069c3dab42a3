-- Why: scheduled jobs cannot report failure to anyone (the platform drops their result), so each
-- run records itself here; retention of processed webhook events is the first such job. No API
-- role holds a grant: the jobs are privileged functions callable by service_role only.
create table if not exists public.cron_runs (
  id bigint generated always as identity primary key,
  job text not null,
  trigger text not null check (trigger in ('schedule', 'http')),
  rows_affected bigint not null,
  ran_at timestamptz not null default now()
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.cron_runs is $$One row per scheduled job run, written by the jobs only.
rls-matrix: service-only tenant=none$$;

create index if not exists cron_runs_job_idx on public.cron_runs (job, ran_at desc);

alter table public.cron_runs enable row level security;
alter table public.cron_runs force row level security;
revoke all on public.cron_runs from anon, authenticated, service_role;

-- The common preconditions of a job run, then the run's record: both used by every job.
create or replace function private.check_job_call(p_window interval, p_trigger text) returns void
  language plpgsql stable set search_path = ''
  as $$
  begin
    perform private.assert_service_role();
    if p_window is null or p_window < interval '1 day' then
      raise exception 'window % is shorter than one day', p_window using errcode = '22023';
    end if;
    if p_trigger is null or p_trigger not in ('schedule', 'http') then
      raise exception 'unknown trigger %', p_trigger using errcode = '22023';
    end if;
  end
  $$;
revoke execute on function private.check_job_call(interval, text) from public, anon, authenticated;

-- Deletes processed webhook events older than the retention window and records the run, in the
-- caller's transaction. Returns how many events were purged.
create or replace function public.purge_processed_webhook_events(p_retention interval, p_trigger text)
  returns bigint
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    purged bigint;
  begin
    perform private.check_job_call(p_retention, p_trigger);
    delete from public.webhook_events
      where status = 'processed' and received_at < now() - p_retention;
    get diagnostics purged = row_count;
    insert into public.cron_runs (job, trigger, rows_affected)
      values ('purge_processed_webhook_events', p_trigger, purged);
    return purged;
  end
  $$;
revoke execute on function public.purge_processed_webhook_events(interval, text) from public, anon, authenticated;
grant execute on function public.purge_processed_webhook_events(interval, text) to service_role;
