-- Why: revoking a share link must be final. The UPDATE grant on share_links.revoked_at (0011) let
-- an owner or admin set it back to null and bring a revoked link (and every copy of its token)
-- back to life; it also let them date a revocation at will. From now on the revocation time is the
-- server's clock, and a revoked link's revoked_at never changes again (42501), through the same
-- trigger function as API keys (0018). Setting it to its own value stays a no-op, so an
-- idempotent revoke still succeeds.
drop trigger if exists share_links_revocation_is_final on public.share_links;
create trigger share_links_revocation_is_final before update of revoked_at on public.share_links
  for each row execute function private.keep_revocation_final('share link');
