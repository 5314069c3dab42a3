-- Why: PostgREST and Supabase switch between these roles per request; the same sql/ must run on a
-- Supabase project (where they already exist) and on the local cluster (where we create them).
-- `authenticator` logs in and may only become anon/authenticated/service_role, never an admin role.
do $$
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
end
$$;

grant anon, authenticated, service_role to authenticator;

-- Supabase's own per-role limits, so a slow query behaves the same locally and in the cloud.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';
