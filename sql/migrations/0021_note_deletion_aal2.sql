-- Why: deleting a note for good skips the trash and its grace period, so the notes function asks
-- for a second factor (aal2, recent sign-in) before it does. That guard lives in the function;
-- this RESTRICTIVE policy makes the database refuse the same delete from an aal1 session too, so
-- a caller who reaches the table another way (PostgREST, a future function) cannot skip it.
-- Trashing (an UPDATE of deleted_at) stays open at aal1; the purge job runs as its own
-- privileged function and is not affected.
drop policy if exists notes_delete_needs_aal2 on public.notes;
create policy notes_delete_needs_aal2 on public.notes
  as restrictive for delete to authenticated
  using (((select auth.jwt()) ->> 'aal') = 'aal2');
