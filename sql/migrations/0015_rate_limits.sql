-- Why: anti-abuse limits (per workspace, user, API key or client address, per endpoint) need a
-- counter per fixed time window that every edge instance shares. Only the privileged function
-- below touches the table; it counts one hit and answers the running total, so the caller
-- compares it with its limit. Purging past windows belongs to the anti-abuse work (not yet here).
create table if not exists public.rate_limit_counters (
  subject_kind text not null check (subject_kind in ('workspace', 'user', 'api_key', 'ip')),
  subject text not null check (length(subject) between 1 and 200),
  bucket text not null check (length(bucket) between 1 and 100),
  window_start timestamptz not null,
  -- The tenant the subject belongs to, when there is one (a user or an IP has none).
  workspace_id uuid references public.workspaces (id) on delete cascade,
  hits integer not null default 1 check (hits >= 1),
  primary key (subject_kind, subject, bucket, window_start)
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.rate_limit_counters is $$Shared anti-abuse counters, written through count_rate_limit_hit only.
rls-matrix: service-only tenant=none$$;

create index if not exists rate_limit_counters_window_start_idx on public.rate_limit_counters (window_start);
create index if not exists rate_limit_counters_workspace_id_idx on public.rate_limit_counters (workspace_id);

alter table public.rate_limit_counters enable row level security;
alter table public.rate_limit_counters force row level security;
revoke all on public.rate_limit_counters from anon, authenticated, service_role;

-- Counts one hit for the subject in the window that contains now() and returns the window's hits.
create or replace function public.count_rate_limit_hit(
  p_subject_kind text,
  p_subject text,
  p_bucket text,
  p_window interval,
  p_workspace_id uuid default null
) returns integer
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    started timestamptz;
    total integer;
  begin
    perform private.assert_service_role();
    if p_window is null or p_window < interval '1 second' or p_window > interval '1 day' then
      raise exception 'window % must be between one second and one day', p_window using errcode = '22023';
    end if;
    started := to_timestamp(floor(extract(epoch from now()) / extract(epoch from p_window))
                            * extract(epoch from p_window));
    insert into public.rate_limit_counters as c (subject_kind, subject, bucket, window_start, workspace_id)
      values (p_subject_kind, p_subject, p_bucket, started, p_workspace_id)
      on conflict (subject_kind, subject, bucket, window_start) do update set hits = c.hits + 1
      returning c.hits into total;
    return total;
  end
  $$;
revoke execute on function public.count_rate_limit_hit(text, text, text, interval, uuid)
  from public, anon, authenticated;
grant execute on function public.count_rate_limit_hit(text, text, text, interval, uuid) to service_role;
