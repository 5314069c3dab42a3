-- Why: Supabase's defaults hand anon/authenticated/service_role ALL (TRUNCATE included, which
-- ignores RLS) on every new table. We revoke those defaults; each table grants back only what its
-- policies are written for. `private` holds helpers that must never be reachable over the API.
alter default privileges in schema public revoke all on tables from anon, authenticated, service_role;
alter default privileges in schema public revoke all on sequences from anon, authenticated, service_role;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;
alter default privileges revoke execute on functions from public;

revoke create on schema public from public;
grant usage on schema public to anon, authenticated, service_role;

create schema if not exists private;
revoke all on schema private from public, anon;
-- Policies run as the caller, so the caller needs USAGE to reach the membership helpers.
grant usage on schema private to authenticated, service_role;
