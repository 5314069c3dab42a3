-- Why: users may download everything they own or wrote at any time, and deleting an account must
-- remove exactly that (issue 9). Which rows are a user's is data, one rule per table: the columns
-- that name the user, the columns the export leaves out (secrets' hashes), and what account
-- deletion does with those rows (`delete` them, `clear` the column, `pseudonymise` the user, or
-- `none` for a table that holds no user's data, with the reason). The export and the account
-- purge read these rules; the lint sql/lints/account_data_rule_missing.sql fails ci/test for a
-- table without one. A new table adds its rule with one line in its own migration:
--   select private.account_data_rule('public.files', 'delete', '{owner_id}');
create table if not exists private.account_data_rules (
  table_name regclass primary key,
  on_account_purge text not null check (on_account_purge in ('delete', 'clear', 'pseudonymise', 'none')),
  user_columns text[] not null default '{}',
  omit_columns text[] not null default '{}',
  reason text,
  check ((on_account_purge = 'none') = (cardinality(user_columns) = 0)),
  check (on_account_purge <> 'none' or length(reason) > 0)
);
revoke all on private.account_data_rules from public, anon, authenticated, service_role;

-- Adds or replaces a table's rule; refuses a column the table does not have.
create or replace function private.account_data_rule(
  p_table regclass,
  p_on_account_purge text,
  p_user_columns text[] default '{}',
  p_omit_columns text[] default '{}',
  p_reason text default null
) returns void
  language plpgsql volatile set search_path = ''
  as $$
  declare
    missing text;
  begin
    select string_agg(col, ', ') into missing
      from unnest(p_user_columns || p_omit_columns) col
     where not exists (select 1 from pg_catalog.pg_attribute a
                        where a.attrelid = p_table and a.attname = col and a.attnum > 0 and not a.attisdropped);
    if missing is not null then
      raise exception 'account data rule for %: no column %', p_table, missing using errcode = '42703';
    end if;
    insert into private.account_data_rules as r (table_name, on_account_purge, user_columns, omit_columns, reason)
      values (p_table, p_on_account_purge, p_user_columns, p_omit_columns, p_reason)
      on conflict (table_name) do update
        set on_account_purge = excluded.on_account_purge, user_columns = excluded.user_columns,
            omit_columns = excluded.omit_columns, reason = excluded.reason;
  end
  $$;
revoke execute on function private.account_data_rule(regclass, text, text[], text[], text) from public, anon, authenticated, service_role;

select private.account_data_rule('public.profiles', 'delete', '{id}');
select private.account_data_rule('public.memberships', 'delete', '{user_id}');
-- The workspace stays for its other members (0045 decides who owns it); only the creator mark goes.
select private.account_data_rule('public.workspaces', 'clear', '{created_by}');
select private.account_data_rule('public.notes', 'delete', '{author_id}');
select private.account_data_rule('public.invitations', 'delete', '{invited_by,accepted_by}', '{token_hash}');
select private.account_data_rule('public.share_links', 'delete', '{created_by}', '{token_hash}');
select private.account_data_rule('public.messaging_channels', 'delete', '{created_by}');
select private.account_data_rule('public.api_keys', 'delete', '{created_by}', '{key_hash}');
select private.account_data_rule('public.audit_log', 'pseudonymise', '{actor_id}');
select private.account_data_rule('public.billing_accounts', 'none',
  p_reason => 'a workspace''s billing state: no column names a user');
select private.account_data_rule('public.webhook_events', 'none',
  p_reason => 'provider deliveries filed under workspaces, not users');
select private.account_data_rule('public.cron_runs', 'none', p_reason => 'job runs: no user');
select private.account_data_rule('public.rate_limit_counters', 'none',
  p_reason => 'short-lived anti-abuse counters, purged by the retention job within days');
select private.account_data_rule('public.email_suppressions', 'none',
  p_reason => 'a workspace''s bounced and complained addresses, written by the e-mail provider''s webhook');

-- The caller's rows, table by table: first a row with the table's name and no data (so a table
-- with none of the caller's rows still appears), then one row per record, the omitted columns
-- removed. SECURITY DEFINER: a user's own audit entries and API keys are theirs to export even
-- where RLS shows them only to managers; the rows are chosen by the rules' user columns equal to
-- the caller's `auth.uid()`, nothing else. Needs aal2 (the route also asks for a recent sign-in).
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
      select r.table_name as rel, c.relname, r.user_columns, r.omit_columns
        from private.account_data_rules r
        join pg_catalog.pg_class c on c.oid = r.table_name
       where r.on_account_purge <> 'none'
       order by c.relname
    loop
      table_name := rule.relname;
      row_data := null;
      return next;
      return query execute format(
        'select %L::text, to_jsonb(t) - $2 from %s t where %s',
        rule.relname, rule.rel,
        (select string_agg(format('t.%I = $1', u.c), ' or ') from unnest(rule.user_columns) as u (c)))
        using caller, rule.omit_columns;
    end loop;
  end
  $$;
revoke execute on function private.account_export_rows() from public, anon, service_role;
grant execute on function private.account_export_rows() to authenticated;
