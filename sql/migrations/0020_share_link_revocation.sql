-- Why: revoking a share link must be final. The UPDATE grant on share_links.revoked_at (0011) let
-- an owner or admin set it back to null and bring a revoked link (and every copy of its token)
-- back to life; it also let them date a revocation at will. From now on the revocation time is the
-- server's clock, and a revoked link's revoked_at never changes again (42501). Setting it to its
-- own value stays a no-op, so an idempotent revoke still succeeds.
create or replace function private.keep_share_link_revoked() returns trigger
  language plpgsql set search_path = ''
  as $$
  begin
    if old.revoked_at is not null then
      if new.revoked_at is distinct from old.revoked_at then
        raise exception 'a revoked share link stays revoked' using errcode = '42501';
      end if;
    elsif new.revoked_at is not null then
      new.revoked_at := pg_catalog.now();
    end if;
    return new;
  end
  $$;
revoke execute on function private.keep_share_link_revoked() from public, anon, authenticated;

drop trigger if exists share_links_revocation_is_final on public.share_links;
create trigger share_links_revocation_is_final before update of revoked_at on public.share_links
  for each row execute function private.keep_share_link_revoked();
