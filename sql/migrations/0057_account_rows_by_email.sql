-- Why: two things an account's export and deletion (0044, 0045) missed.
-- 1. Rows that name the user by e-mail address, not by id: invitations sent to them. They are
--    theirs to export, and their address must not outlive the account. A rule now lists such
--    columns too (`email_columns`); the export matches them against the caller's signed-in
--    address, the purge against the address recorded when the deletion was requested (by then
--    the auth user, and with it the address, is gone).
--    Audit entries keep their row copies with the address replaced by the user's pseudonym.
-- 2. A workspace removed with its sole owner (nobody else left in it) may still hold files of
--    former members: their R2 objects are the workspace's and go with it, so the job deleting the
--    account's objects is given those keys too.
-- Which filter a rule turns into is written once (account_rows_filter), for both the export and
-- the purge.
alter table private.account_data_rules add column if not exists email_columns text[] not null default '{}';
update private.account_data_rules set email_columns = '{email}' where table_name = 'public.invitations'::regclass;

alter table private.account_deletions add column if not exists email text;

-- The address the user signed in with when asking for the deletion (their JWT's `email`).
create or replace function private.record_account_deletion_email() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    new.email := coalesce(new.email, (select auth.email()));
    return new;
  end
  $$;
revoke execute on function private.record_account_deletion_email() from public, anon, authenticated, service_role;
drop trigger if exists record_email on private.account_deletions;
create trigger record_email before insert on private.account_deletions
  for each row execute function private.record_account_deletion_email();

-- `t.<user column> = $1 or … or lower(t.<email column>) = lower($2)` for a rule's columns.
create or replace function private.account_rows_filter(p_user_columns text[], p_email_columns text[])
  returns text
  language sql immutable set search_path = ''
  as $$
    select string_agg(f, ' or ') from (
      select format('t.%I = $1', u) from unnest(p_user_columns) u
      union all
      select format('lower(t.%I) = lower($2)', e) from unnest(p_email_columns) e) x (f)
  $$;
revoke execute on function private.account_rows_filter(text[], text[]) from public, anon, authenticated, service_role;

-- As in 0044, the rows now chosen by the rule's user columns and its e-mail columns.
create or replace function private.account_export_rows()
  returns table (table_name text, row_data jsonb)
  language plpgsql stable security definer set search_path = ''
  as $$
  declare
    caller uuid := (select auth.uid());
    rule record;
  begin
    if caller is null or (select auth.role()) is distinct from 'authenticated'
       or (select auth.jwt()) ->> 'aal' is distinct from 'aal2' then
      raise exception 'exporting an account needs its signed-in user at aal2' using errcode = '42501';
    end if;
    for rule in
      select r.table_name as rel, c.relname, r.user_columns, r.email_columns, r.omit_columns
        from private.account_data_rules r
        join pg_catalog.pg_class c on c.oid = r.table_name
       where r.on_account_purge <> 'none'
       order by c.relname
    loop
      table_name := rule.relname;
      row_data := null;
      return next;
      return query execute format('select %L::text, to_jsonb(t) - $3 from %s t where %s',
        rule.relname, rule.rel, private.account_rows_filter(rule.user_columns, rule.email_columns))
        using caller, (select auth.email()), rule.omit_columns;
    end loop;
  end
  $$;
revoke execute on function private.account_export_rows() from public, anon, service_role;
grant execute on function private.account_export_rows() to authenticated;

-- As in 0045; a `delete` rule's rows are also those naming the recorded address, and a `clear`
-- rule clears only its user columns (an address column is never cleared to NULL: the row goes).
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
    address text;
  begin
    perform private.check_job_call(interval '1 day', p_trigger);
    select d.email into address from private.account_deletions d
     where d.user_id = p_user and d.purge_after <= now();
    if not found then
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
      select r.table_name as rel, r.on_account_purge, r.user_columns, r.email_columns
        from private.account_data_rules r
       where r.on_account_purge in ('delete', 'clear')
       order by r.on_account_purge desc, r.table_name::text
    loop
      if rule.on_account_purge = 'delete' then
        execute format('delete from %s t where %s', rule.rel,
                       private.account_rows_filter(rule.user_columns, rule.email_columns))
          using p_user, address;
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
    -- The trail: the actor column, the id wherever an entry's target or row copy names it, and
    -- the address where a row copy holds it (an invitation's `email`).
    perform set_config('rls_edge.audit_rewrite', 'account_purge', true);
    update public.audit_log a
       set actor_id = case when a.actor_id = p_user then null else a.actor_id end,
           actor_pseudonym = case when a.actor_id = p_user then pseudonym else a.actor_pseudonym end,
           target_id = replace(a.target_id, p_user::text, pseudonym),
           details = replace((case when lower(a.details ->> 'email') = lower(address)
                                   then jsonb_set(a.details, '{email}', to_jsonb(pseudonym))
                                   else a.details end)::text, p_user::text, pseudonym)::jsonb
     where a.actor_id = p_user or strpos(a.details::text, p_user::text) > 0
        or a.target_id = p_user::text or lower(a.details ->> 'email') = lower(address);
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

-- As in 0048, plus every file of the workspaces that go with the account (no one else left).
create or replace function public.file_object_keys_of_user(p_user uuid) returns setof text
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    perform private.assert_service_role();
    return query
      select k from public.files f, unnest(array[f.original_key, f.processed_key]) k
       where f.created_by = p_user
          or f.workspace_id in (select s.workspace_id from private.sole_owned_workspaces(p_user) s
                                 where s.successor is null);
  end
  $$;
revoke execute on function public.file_object_keys_of_user(uuid) from public, anon, authenticated;
grant execute on function public.file_object_keys_of_user(uuid) to service_role;
