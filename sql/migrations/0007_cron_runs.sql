-- Why: scheduled jobs cannot report failure to anyone (the platform drops their result), so each
-- run records itself here; retention of processed webhook events is the first such job.
create table if not exists public.cron_runs (
  id bigint generated always as identity primary key,
  job text not null,
  trigger text not null check (trigger in ('schedule', 'http')),
  rows_affected bigint not null,
  ran_at timestamptz not null default now()
);
create index if not exists cron_runs_job_idx on public.cron_runs (job, ran_at desc);

alter table public.cron_runs enable row level security;
alter table public.cron_runs force row level security;
grant select, insert on public.cron_runs to service_role;

-- Deletes processed webhook events older than the retention window and records the run, in the
-- caller's transaction. SECURITY INVOKER: it runs with the service role's own grants.
create or replace function private.purge_processed_webhook_events(retention interval, run_trigger text)
  returns bigint
  language plpgsql security invoker set search_path = ''
  as $$
  declare
    purged bigint;
  begin
    if retention < interval '1 day' then
      raise exception 'retention % is shorter than one day', retention using errcode = '22023';
    end if;
    delete from public.webhook_events
      where status = 'processed' and received_at < now() - retention;
    get diagnostics purged = row_count;
    insert into public.cron_runs (job, trigger, rows_affected)
      values ('purge_processed_webhook_events', run_trigger, purged);
    return purged;
  end
  $$;
revoke execute on function private.purge_processed_webhook_events(interval, text) from public, anon, authenticated;
grant execute on function private.purge_processed_webhook_events(interval, text) to service_role;
