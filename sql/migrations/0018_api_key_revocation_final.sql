-- Why: revoking an API key set `revoked_at`, and the same UPDATE grant let an owner or admin set it
-- back to NULL, reviving a key that was revoked because it leaked. Revocation is now final for
-- everyone (the table owner included), and its time is the server's clock, so a key cannot be
-- "revoked" at a future time that leaves it working. The trigger function serves every table
-- whose rows are revoked by `revoked_at` (share links use it too, 0020); its argument names the
-- thing revoked in the error.
create or replace function private.keep_revocation_final() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    if old.revoked_at is not null then
      if new.revoked_at is distinct from old.revoked_at then
        raise exception 'a revoked % stays revoked', tg_argv[0] using errcode = '42501';
      end if;
    elsif new.revoked_at is not null then
      new.revoked_at := pg_catalog.now();
    end if;
    return new;
  end
  $$;
revoke execute on function private.keep_revocation_final() from public, anon, authenticated;
drop trigger if exists api_keys_keep_revoked on public.api_keys;
create trigger api_keys_keep_revoked before update of revoked_at on public.api_keys
  for each row execute function private.keep_revocation_final('API key');
