-- Why: 0041 gave API-key callers their own permissive policies on notes, beside the members'
-- ones for the same role (`authenticated`) and commands. Postgres then evaluates both policies for
-- every row of every member's query (splinter's multiple_permissive_policies; our catalog lint
-- fails on it). Keys keep exactly their rule, OR-ed into the members' policies: one permissive
-- policy per role and command.
drop policy if exists notes_select_api_key on public.notes;
drop policy if exists notes_insert_api_key on public.notes;

drop policy if exists notes_select_member on public.notes;
create policy notes_select_member on public.notes
  for select to authenticated
  using (
    (workspace_id = any (array(select private.current_workspace_ids()))
     and (author_id = (select auth.uid()) or (visibility = 'team' and deleted_at is null)))
    or id = any (array(select private.shared_note_ids()))
    -- A live API key of the workspace with `notes:read`: its team notes (0041).
    or (workspace_id = (select private.api_key_workspace_id('notes:read'))
        and visibility = 'team' and deleted_at is null)
  );

drop policy if exists notes_insert_member_as_self on public.notes;
create policy notes_insert_member_as_self on public.notes
  for insert to authenticated
  with check (
    (workspace_id = any (array(select private.current_workspace_ids()))
     and author_id = (select auth.uid()))
    -- A live API key of the workspace with `notes:write`: team notes by the key's creator (0041).
    or (workspace_id = (select private.api_key_workspace_id('notes:write'))
        and visibility = 'team' and deleted_at is null
        and author_id = (select private.api_key_author()))
  );
