-- Why: revoking an API key set `revoked_at`, and the same UPDATE grant let an owner or admin set it
-- back to NULL, reviving a key that was revoked because it leaked. Revocation is now final for
-- everyone (the table owner included), and its time is the server's clock, so a key cannot be
-- "revoked" at a future time that leaves it working.
create or replace function private.keep_api_key_revoked() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    if old.revoked_at is not null then
      if new.revoked_at is distinct from old.revoked_at then
        raise exception 'a revoked API key stays revoked' using errcode = '42501';
      end if;
    elsif new.revoked_at is not null then
      new.revoked_at := now();
    end if;
    return new;
  end
  $$;
revoke execute on function private.keep_api_key_revoked() from public, anon, authenticated;
drop trigger if exists api_keys_keep_revoked on public.api_keys;
create trigger api_keys_keep_revoked before update of revoked_at on public.api_keys
  for each row execute function private.keep_api_key_revoked();
