-- Why: a user may delete their account (issue 9). The request (aal2 + a recent sign-in, checked
-- by the route and again here) only marks the account; for a grace period the user can sign in
-- and cancel, and every other request of theirs is refused. Once the grace period is over the
-- retention job removes the auth user (Supabase Auth admin API) and then, with
-- public.purge_account, every row the account data rules (0044) attribute to the user; audit
-- entries stay with the user pseudonymised. Workspaces the user solely owns go to their
-- longest-standing admin, else their longest-standing member; a workspace with no other member is
-- removed with the account.
create table if not exists private.account_deletions (
  user_id uuid primary key,
  requested_at timestamptz not null default now(),
  purge_after timestamptz not null
);
revoke all on private.account_deletions from public, anon, authenticated, service_role;
select private.account_data_rule('private.account_deletions', 'delete', '{user_id}');

-- How long a deletion can be cancelled: configuration, the issue's 30 days by default.
create or replace function private.account_deletion_grace() returns interval
  language sql immutable set search_path = ''
  as $$ select interval '30 days' $$;
revoke execute on function private.account_deletion_grace() from public, anon, authenticated, service_role;

-- The signed-in caller at aal2, or 42501.
create or replace function private.assert_user_at_aal2() returns uuid
  language plpgsql stable set search_path = ''
  as $$
  declare
    caller uuid := (select auth.uid());
  begin
    if caller is null or (select auth.role()) is distinct from 'authenticated'
       or (select auth.jwt()) ->> 'aal' is distinct from 'aal2' then
      raise exception 'this needs the signed-in user at aal2' using errcode = '42501';
    end if;
    return caller;
  end
  $$;
revoke execute on function private.assert_user_at_aal2() from public, anon, service_role;
grant execute on function private.assert_user_at_aal2() to authenticated;

-- The caller's pending deletion as JSON, or NULL.
create or replace function private.account_deletion_status() returns jsonb
  language sql stable security definer set search_path = ''
  as $$
    select jsonb_build_object('requested_at', d.requested_at, 'purge_after', d.purge_after)
      from private.account_deletions d where d.user_id = (select auth.uid())
  $$;
revoke execute on function private.account_deletion_status() from public, anon, service_role;
grant execute on function private.account_deletion_status() to authenticated;

-- Marks the caller's account for deletion; what happens to the workspaces they solely own is
-- answered with it. NULL when a deletion is already pending.
create or replace function private.request_account_deletion() returns jsonb
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    caller uuid := private.assert_user_at_aal2();
    requested private.account_deletions;
  begin
    insert into private.account_deletions (user_id, purge_after)
      values (caller, now() + private.account_deletion_grace())
      on conflict (user_id) do nothing
      returning * into requested;
    if requested.user_id is null then
      return null;
    end if;
    return jsonb_build_object(
      'requested_at', requested.requested_at,
      'purge_after', requested.purge_after,
      'sole_owned_workspaces', coalesce((
        select jsonb_agg(jsonb_build_object('workspace_id', w.workspace_id,
                 'successor', case when w.successor is null then 'deleted_with_account' else 'transferred' end)
                 order by w.workspace_id)
          from private.sole_owned_workspaces(caller) w), '[]'::jsonb));
  end
  $$;

-- Workspaces `p_user` is the only owner of, each with who would own it next: the admin who joined
-- first, else the member who joined first; NULL when nobody else is a member.
create or replace function private.sole_owned_workspaces(p_user uuid)
  returns table (workspace_id uuid, successor uuid)
  language sql stable set search_path = ''
  as $$
    select m.workspace_id,
           (select o.user_id from public.memberships o
             where o.workspace_id = m.workspace_id and o.user_id <> p_user
             order by (o.role = 'admin') desc, o.created_at, o.user_id limit 1)
      from public.memberships m
     where m.user_id = p_user and m.role = 'owner'
       and not exists (select 1 from public.memberships x
                        where x.workspace_id = m.workspace_id and x.role = 'owner' and x.user_id <> p_user)
  $$;
revoke execute on function private.sole_owned_workspaces(uuid) from public, anon, authenticated, service_role;
revoke execute on function private.request_account_deletion() from public, anon, service_role;
grant execute on function private.request_account_deletion() to authenticated;

-- Cancels the caller's pending deletion; false when there was none.
create or replace function private.cancel_account_deletion() returns boolean
  language plpgsql volatile security definer set search_path = ''
  as $$
  begin
    delete from private.account_deletions where user_id = private.assert_user_at_aal2();
    return found;
  end
  $$;
revoke execute on function private.cancel_account_deletion() from public, anon, service_role;
grant execute on function private.cancel_account_deletion() to authenticated;

-- Called by the per-request settings statement (shared/rls-db/src/request_settings.sql): a user
-- whose deletion is pending may only read its account's state (`GET /account`) or cancel the
-- deletion (`DELETE /account/deletion`);
-- anything else is refused with SQLSTATE PD001 (403 account_pending_deletion). It runs while the
-- connection is still `authenticator`, hence that role's grants.
create or replace function private.refuse_pending_account(p_claims text, p_method text, p_path text)
  returns boolean
  language plpgsql stable security definer set search_path = ''
  as $$
  declare
    subject text := nullif(p_claims, '')::jsonb ->> 'sub';
  begin
    if subject is not null
       and exists (select 1 from private.account_deletions d where d.user_id::text = subject)
       and not ((p_method, p_path) in (('GET', '/functions/v1/account'),
                                       ('DELETE', '/functions/v1/account/deletion'))) then
      raise exception 'this account is scheduled for deletion; cancel the deletion to use it'
        using errcode = 'PD001';
    end if;
    return true;
  end
  $$;
revoke execute on function private.refuse_pending_account(text, text, text) from public;
grant usage on schema private to authenticator;
grant execute on function private.refuse_pending_account(text, text, text)
  to authenticator, anon, authenticated, service_role;

-- Audit entries outlive the account with the user replaced by a stable keyed hash: the same user
-- gets the same pseudonym in every entry (a trail stays readable), and without the key nobody can
-- test a guessed id against it. The key is generated here and never leaves the database.
create table if not exists private.audit_pseudonym_key (
  only_row boolean primary key default true check (only_row),
  secret bytea not null
);
revoke all on private.audit_pseudonym_key from public, anon, authenticated, service_role;
insert into private.audit_pseudonym_key (secret)
  values (sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')))
  on conflict (only_row) do nothing;

alter table public.audit_log add column if not exists actor_pseudonym text;

-- sha256(key || id): the id has a fixed length, so this keyed hash needs no HMAC construction.
create or replace function private.user_pseudonym(p_user uuid) returns text
  language sql stable set search_path = ''
  as $$
    select 'user:' || encode(sha256(k.secret || convert_to(p_user::text, 'UTF8')), 'hex')
      from private.audit_pseudonym_key k
  $$;
revoke execute on function private.user_pseudonym(uuid) from public, anon, authenticated, service_role;

-- Accounts whose grace period is over, oldest first, at most p_limit (the job's batch).
create or replace function public.due_account_deletions(p_limit integer) returns setof uuid
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    perform private.assert_service_role();
    return query select d.user_id from private.account_deletions d
                  where d.purge_after <= now() order by d.purge_after limit greatest(p_limit, 0);
  end
  $$;
revoke execute on function public.due_account_deletions(integer) from public, anon, authenticated;
grant execute on function public.due_account_deletions(integer) to service_role;

-- Removes a due account's data (the caller removed the auth user first): sole-owned workspaces
-- handed on or removed, then every rule's rows deleted or columns cleared, then the audit trail
-- pseudonymised (entries written by this purge included). Records the run in cron_runs. Returns
-- the rows changed; 0 when the account is not due (cancelled, or already purged).
create or replace function public.purge_account(p_user uuid, p_trigger text) returns bigint
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    changed bigint := 0;
    n bigint;
    handover record;
    rule record;
    col text;
    pseudonym text := private.user_pseudonym(p_user);
  begin
    perform private.check_job_call(interval '1 day', p_trigger);
    if not exists (select 1 from private.account_deletions d
                    where d.user_id = p_user and d.purge_after <= now()) then
      return 0;
    end if;
    for handover in select * from private.sole_owned_workspaces(p_user) loop
      if handover.successor is null then
        delete from public.workspaces where id = handover.workspace_id;
      else
        update public.memberships set role = 'owner'
         where workspace_id = handover.workspace_id and user_id = handover.successor;
      end if;
      changed := changed + 1;
    end loop;
    for rule in
      select r.table_name as rel, r.on_account_purge, r.user_columns
        from private.account_data_rules r
       where r.on_account_purge in ('delete', 'clear')
       order by r.on_account_purge desc, r.table_name::text
    loop
      if rule.on_account_purge = 'delete' then
        execute format('delete from %s t where %s', rule.rel,
                       (select string_agg(format('t.%I = $1', u.c), ' or ') from unnest(rule.user_columns) as u (c)))
          using p_user;
        get diagnostics n = row_count;
        changed := changed + n;
      else
        foreach col in array rule.user_columns loop
          execute format('update %s t set %I = null where t.%I = $1', rule.rel, col, col) using p_user;
          get diagnostics n = row_count;
          changed := changed + n;
        end loop;
      end if;
    end loop;
    -- The trail: the actor column, and the id wherever an entry's target or row copy names it.
    perform set_config('rls_edge.audit_rewrite', 'account_purge', true);
    update public.audit_log a
       set actor_id = case when a.actor_id = p_user then null else a.actor_id end,
           actor_pseudonym = case when a.actor_id = p_user then pseudonym else a.actor_pseudonym end,
           target_id = replace(a.target_id, p_user::text, pseudonym),
           details = replace(a.details::text, p_user::text, pseudonym)::jsonb
     where a.actor_id = p_user or strpos(a.details::text, p_user::text) > 0
        or a.target_id = p_user::text;
    get diagnostics n = row_count;
    perform set_config('rls_edge.audit_rewrite', '', true);
    changed := changed + n;
    insert into public.cron_runs (job, trigger, rows_affected)
      values ('purge_account', p_trigger, changed);
    return changed;
  end
  $$;
revoke execute on function public.purge_account(uuid, text) from public, anon, authenticated;
grant execute on function public.purge_account(uuid, text) to service_role;
