-- Why: a Supabase access token stays valid until it expires (an hour by default), so "sign out
-- everywhere" did nothing for tokens already handed out. Supabase Auth keeps one row per session
-- in `auth.sessions` and its tokens carry that row's id as `session_id`; signing out
-- (`POST /auth/v1/logout?scope=global`) deletes the user's rows. Every function now checks, in
-- the request's own transaction and in the same flight as its settings (no extra round trip),
-- that the token's session still exists: a signed-out token is refused at its next request.
-- Here `auth.sessions` is created only where missing (the local stand-in of Supabase Auth's
-- table, the columns Supabase has; on Supabase it exists and is left alone).
do $$
begin
  if to_regclass('auth.sessions') is null then
    create table auth.sessions (
      id uuid primary key,
      user_id uuid not null,
      created_at timestamptz default now(),
      updated_at timestamptz,
      factor_id uuid,
      aal text,
      not_after timestamptz,
      refreshed_at timestamp,
      user_agent text,
      ip inet,
      tag text
    );
    create index sessions_user_id_idx on auth.sessions (user_id);
    comment on table auth.sessions is $c$Supabase Auth's sessions (local stand-in): one row per signed-in session; signing out deletes it. No API role reads or writes it.
rls-matrix: service-only tenant=none$c$;
    alter table auth.sessions enable row level security;
    alter table auth.sessions force row level security;
    revoke all on auth.sessions from anon, authenticated, service_role;
  end if;
end
$$;

-- Refuses the request (SQLSTATE PT401, code `session_revoked`) unless the caller's session is
-- live. Reads the claims directly, not through auth.uid() (see 0041: far cheaper per call). Called by the data path right after the settings statement, as the token's role.
create or replace function private.require_live_session(p_session_id text) returns void
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    -- A signed token's `session_id` is a uuid; anything else names no session.
    if p_session_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
      if exists (select 1 from auth.sessions s
                  where s.id = p_session_id::uuid
                    and s.user_id = (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
                    and (s.not_after is null or s.not_after > pg_catalog.now())) then
        return;
      end if;
    end if;
    raise exception using errcode = 'PT401', message = 'session_revoked';
  end
  $$;
revoke execute on function private.require_live_session(text) from public, anon, service_role;
grant execute on function private.require_live_session(text) to authenticated;

-- Signs the caller out everywhere: deletes every session of theirs, this one included, so every
-- token issued for them is refused from their next request on. Returns how many sessions ended.
create or replace function private.sign_out_everywhere() returns integer
  language sql volatile security definer set search_path = ''
  as $$
    with ended as (
      delete from auth.sessions s
       where s.user_id = (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
      returning 1)
    select count(*)::integer from ended
  $$;
revoke execute on function private.sign_out_everywhere() from public, anon, service_role;
grant execute on function private.sign_out_everywhere() to authenticated;
