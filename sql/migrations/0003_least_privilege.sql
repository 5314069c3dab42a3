-- Why: Supabase's defaults hand anon/authenticated/service_role ALL (TRUNCATE included, which
-- ignores RLS) on every new table. We revoke those defaults; each table grants back only what its
-- policies are written for, and service_role gets no table at all: jobs and webhooks reach data
-- only through the privileged functions that check their own preconditions. `private` holds
-- helpers that must never be reachable over the API (PostgREST exposes `public` only).
alter default privileges in schema public revoke all on tables from anon, authenticated, service_role;
alter default privileges in schema public revoke all on sequences from anon, authenticated, service_role;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated, service_role;
alter default privileges revoke execute on functions from public;

revoke create on schema public from public;
grant usage on schema public to anon, authenticated, service_role;

create schema if not exists private;
revoke all on schema private from public;
-- Policies run as the caller, so callers need USAGE to reach the helpers their policies call;
-- each helper grants EXECUTE on its own (anon: only the share-link helper).
grant usage on schema private to anon, authenticated, service_role;

-- The first statement of every privileged function: EXECUTE is already granted to service_role
-- only, and this also refuses a session whose claims name another role (a member of
-- service_role acting for a user, a console without claims).
create or replace function private.assert_service_role() returns void
  language plpgsql stable set search_path = ''
  as $$
  begin
    if (select auth.role()) is distinct from 'service_role' then
      raise exception 'only the service role may call this function'
        using errcode = '42501';
    end if;
  end
  $$;
-- Called only from inside SECURITY DEFINER functions (as their owner): no role needs EXECUTE.
revoke execute on function private.assert_service_role() from public, anon, authenticated;

-- sha256 of a request header's value, as PostgREST copies headers into `request.headers`
-- (lower-case names). NULL when the header is absent or empty. Secrets such as share-link tokens
-- travel this way, and only their hash is ever compared or stored.
create or replace function private.request_header_sha256(header_name text) returns bytea
  language sql stable set search_path = ''
  as $$
    select pg_catalog.sha256(pg_catalog.convert_to(h, 'UTF8'))
      from (select nullif(nullif(current_setting('request.headers', true), '')::jsonb ->> header_name, '') as h) t
     where h is not null
  $$;
revoke execute on function private.request_header_sha256(text) from public, anon, authenticated;
