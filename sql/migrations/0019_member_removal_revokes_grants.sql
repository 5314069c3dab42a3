-- Why: invitations and share links keep working after the person who created them leaves or is
-- removed: a removed admin's pending invitation could still bring someone in, and their share
-- links still open notes. When a membership ends, the invitations that member sent and not yet
-- accepted are withdrawn (deleted, as a manager withdraws one) and their live share links are
-- revoked, in the same statement. Nothing to do when the workspace itself goes (cascade).
create or replace function private.revoke_grants_of_removed_member() returns trigger
  language plpgsql security definer set search_path = ''
  as $$
  begin
    if exists (select 1 from public.workspaces w where w.id = old.workspace_id) then
      delete from public.invitations i
       where i.workspace_id = old.workspace_id and i.invited_by = old.user_id and i.accepted_at is null;
      update public.share_links s
         set revoked_at = now()
       where s.workspace_id = old.workspace_id and s.created_by = old.user_id and s.revoked_at is null;
    end if;
    return null;
  end
  $$;
revoke execute on function private.revoke_grants_of_removed_member() from public, anon, authenticated;
drop trigger if exists memberships_revoke_grants_on_removal on public.memberships;
create trigger memberships_revoke_grants_on_removal after delete on public.memberships
  for each row execute function private.revoke_grants_of_removed_member();
