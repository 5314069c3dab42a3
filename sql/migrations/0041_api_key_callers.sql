-- Why: API keys (0014) existed but nothing accepted one. A key caller is now admitted in the
-- request's own transaction: the function sends the key's public prefix and the SHA-256 of the
-- whole key (never the key) in the same flight as the request's settings, and
-- `private.admit_api_key` checks them against the table, which is the truth: a revoked or expired
-- key, or one of a deleted workspace, stops working at once. It then sets `request.jwt.claims`
-- to what SQL sees of a key caller (role `authenticated`, no `sub`):
--   {"role": "authenticated", "api_key_id": <uuid>, "workspace_id": <uuid>, "scopes": [...]}
-- The policies for key callers do not trust those claims alone: `private.api_key_workspace_id`
-- re-reads the key's row, so forged or stale claims (revoked, expired, another workspace, a
-- scope the key lacks) open nothing. `last_used_at` is written at most once a minute per key.

-- `last_used_at` is bookkeeping, not a change anyone audits: only these columns are.
drop trigger if exists api_keys_audit on public.api_keys;
create trigger api_keys_audit
  after insert or delete or update of name, scopes, expires_at, revoked_at on public.api_keys
  for each row execute function private.audit_change('workspace_id', 'id');

-- These per-request functions read the claims themselves: calling auth.uid()/auth.jwt() (SQL
-- functions with their own search_path, so never inlined) from inside them cost about 250 µs a
-- call on the loaded test machine, the direct read a few µs (BENCHMARKS.md).

-- Refusals a credential check raises. SQLSTATE PT4xx is PostgREST's convention for "answer with
-- HTTP 4xx"; the message is the stable error code the functions answer with (rls-db maps them).
create or replace function private.admit_api_key(p_prefix text, p_key_sha256 bytea, p_scope text)
  returns void
  language plpgsql security definer set search_path = ''
  as $$
  declare
    found_key public.api_keys%rowtype;
  begin
    -- Only a request that came in without a user (the placeholder claims of a key caller).
    if nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' is not null then
      raise exception using errcode = 'PT401', message = 'invalid_api_key';
    end if;
    select * into found_key from public.api_keys k where k.prefix = p_prefix;
    -- A hash comparison: its timing says nothing about the key (SHA-256 cannot be walked back).
    if not found or found_key.key_hash is distinct from p_key_sha256
       or not exists (select 1 from public.workspaces w
                       where w.id = found_key.workspace_id and w.deleted_at is null) then
      raise exception using errcode = 'PT401', message = 'invalid_api_key';
    end if;
    if found_key.revoked_at is not null then
      raise exception using errcode = 'PT401', message = 'revoked_api_key';
    end if;
    if found_key.expires_at is not null and found_key.expires_at <= pg_catalog.now() then
      raise exception using errcode = 'PT401', message = 'expired_api_key';
    end if;
    if not (p_scope = any (found_key.scopes)) then
      raise exception using errcode = 'PT403', message = 'insufficient_scope';
    end if;
    -- At most one write a minute per key: the condition is re-checked under the row lock, so
    -- concurrent requests write it once.
    if found_key.last_used_at is null or found_key.last_used_at < pg_catalog.now() - interval '1 minute' then
      update public.api_keys k set last_used_at = pg_catalog.now()
       where k.id = found_key.id
         and (k.last_used_at is null or k.last_used_at < pg_catalog.now() - interval '1 minute');
    end if;
    perform pg_catalog.set_config('request.jwt.claims', pg_catalog.json_build_object(
      'role', 'authenticated', 'api_key_id', found_key.id, 'workspace_id', found_key.workspace_id,
      'scopes', found_key.scopes)::text, true);
  end
  $$;
-- Called by the data path right after the settings statement, as `authenticated`.
revoke execute on function private.admit_api_key(text, bytea, text) from public, anon, service_role;
grant execute on function private.admit_api_key(text, bytea, text) to authenticated;

-- The workspace of the key caller's live key when that key grants `p_scope`; NULL for anyone
-- else (a user, a forged or stale claim). What every key policy compares against.
create or replace function private.api_key_workspace_id(p_scope text) returns uuid
  language sql stable security definer set search_path = ''
  as $$
    select k.workspace_id
      from public.api_keys k
      join public.workspaces w on w.id = k.workspace_id and w.deleted_at is null
     where nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' is null
       and k.id::text = nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'api_key_id'
       and k.revoked_at is null
       and (k.expires_at is null or k.expires_at > pg_catalog.now())
       and p_scope = any (k.scopes)
  $$;
revoke execute on function private.api_key_workspace_id(text) from public, anon, service_role;
grant execute on function private.api_key_workspace_id(text) to authenticated;

-- Whom a note a key writes is by: the member who minted the key (owner or admin at the time).
create or replace function private.api_key_author() returns uuid
  language sql stable security definer set search_path = ''
  as $$
    select k.created_by from public.api_keys k
     where nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub' is null
       and k.id::text = nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'api_key_id'
  $$;
revoke execute on function private.api_key_author() from public, anon, service_role;
grant execute on function private.api_key_author() to authenticated;

alter table public.notes alter column author_id set default coalesce(auth.uid(), private.api_key_author());

-- Keys read and write team notes of their own workspace only, by scope; never private notes or
-- the trash, never edit or delete.
drop policy if exists notes_select_api_key on public.notes;
create policy notes_select_api_key on public.notes
  for select to authenticated
  using (workspace_id = (select private.api_key_workspace_id('notes:read'))
         and visibility = 'team' and deleted_at is null);

drop policy if exists notes_insert_api_key on public.notes;
create policy notes_insert_api_key on public.notes
  for insert to authenticated
  with check (workspace_id = (select private.api_key_workspace_id('notes:write'))
              and visibility = 'team' and deleted_at is null
              and author_id = (select private.api_key_author()));

-- The notes tag (0005) with what key callers may do; the attack matrix reads the last comment.
comment on table public.notes is $$A workspace's notes, written only by their author. Members read team notes; private notes and
the trash (deleted_at) only their author. A live share link (0011) opens one note to whoever holds
its token (`share`: only that note, read only; the matrix attacks the others with the token).
A live API key of the workspace reads team notes with `notes:read` and writes them with
`notes:write` (0041; the note's author is the key's creator).
rls-matrix: tenant=workspace_id rows=visibility:team,deleted_at:null select=member,share,api_key:notes:read insert=member,api_key:notes:write update=creator:author_id delete=creator:author_id truncate=none
rls-matrix: rows=visibility:private,deleted_at:null select=creator:author_id insert=member update=creator:author_id delete=creator:author_id truncate=none
rls-matrix: rows=deleted_at:notnull select=creator:author_id insert=member update=creator:author_id delete=creator:author_id truncate=none$$;
