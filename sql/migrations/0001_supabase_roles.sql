-- Why: PostgREST and Supabase switch between these roles per request; the same sql/ must run on a
-- Supabase project (where they already exist) and on the local cluster (where we create them).
-- `authenticator` logs in and may only become anon/authenticated/service_role, never an admin role.
-- Roles are cluster-wide: a second database of the same cluster, or a Supabase project, already
-- has them. So every statement here only acts where something is missing or different (on
-- Supabase the migrating `postgres` role may lack ADMIN OPTION on roles it did not create).
do $$
declare
  api_role text;
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    -- The password is set outside the migrations (ci/dev for local work, Supabase in the cloud).
    create role authenticator login noinherit;
  end if;

  foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
    if not pg_has_role('authenticator', api_role, 'member') then
      execute format('grant %I to authenticator', api_role);
    end if;
  end loop;
end
$$;

-- Supabase's own per-role limits, so a slow query behaves the same locally and in the cloud.
-- Set only where the role does not already carry exactly this value.
do $$
declare
  wanted record;
begin
  for wanted in
    select * from (values
      ('anon', 'statement_timeout', '3s'),
      ('authenticated', 'statement_timeout', '8s'),
      ('authenticator', 'statement_timeout', '8s'),
      ('authenticator', 'lock_timeout', '8s')
    ) as w (role_name, setting, value)
  loop
    if not exists (
      select 1
        from pg_db_role_setting s
        join pg_roles r on r.oid = s.setrole
       where r.rolname = wanted.role_name
         and s.setdatabase = 0
         and format('%s=%s', wanted.setting, wanted.value) = any (s.setconfig)
    ) then
      execute format('alter role %I set %I = %L', wanted.role_name, wanted.setting, wanted.value);
    end if;
  end loop;
end
$$;
