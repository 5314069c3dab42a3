-- Why: the tenant-scoped content the SPA reads and writes. Every note belongs to one workspace and
-- its author; `visibility` says who else sees it: 'team' (every member) or 'private' (the author
-- only). A share link (0011) can expose one note to anyone holding its token. Deleting sets
-- deleted_at: the author keeps it in a trash for the grace period, then the purge job removes it.
create table if not exists public.notes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  author_id uuid not null default auth.uid(),
  body text not null check (length(body) between 1 and 10000),
  visibility text not null default 'team' check (visibility in ('team', 'private')),
  created_at timestamptz not null default now(),
  deleted_at timestamptz,
  -- Lets rows that point at a note (share links) also name its workspace, and have it checked.
  unique (id, workspace_id)
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.notes is $$A workspace's notes, written only by their author. Members read team notes; private notes and
the trash (deleted_at) only their author. A live share link (0011) opens one note to whoever holds
its token (`share`: only that note, read only; the matrix attacks the others with the token).
rls-matrix: tenant=workspace_id rows=visibility:team,deleted_at:null select=member,share insert=member update=creator:author_id delete=creator:author_id truncate=none
rls-matrix: rows=visibility:private,deleted_at:null select=creator:author_id insert=member update=creator:author_id delete=creator:author_id truncate=none
rls-matrix: rows=deleted_at:notnull select=creator:author_id insert=member update=creator:author_id delete=creator:author_id truncate=none$$;

create index if not exists notes_workspace_id_idx on public.notes (workspace_id, created_at desc);
create index if not exists notes_author_id_idx on public.notes (author_id);
create index if not exists notes_deleted_at_idx on public.notes (deleted_at) where deleted_at is not null;

alter table public.notes enable row level security;
alter table public.notes force row level security;

revoke all on public.notes from anon, authenticated, service_role;
grant select, insert (id, workspace_id, body, visibility), update (body, visibility, deleted_at), delete
  on public.notes to authenticated;
-- anon's SELECT grant and both SELECT policies are in 0011_share_links.sql: they include the
-- share-link rule, which needs that table.

drop policy if exists notes_insert_member_as_self on public.notes;
create policy notes_insert_member_as_self on public.notes
  for insert to authenticated
  with check (
    workspace_id = any (array(select private.current_workspace_ids()))
    and author_id = (select auth.uid())
  );

-- Only the author edits, trashes (deleted_at), restores or deletes for good.
drop policy if exists notes_update_author on public.notes;
create policy notes_update_author on public.notes
  for update to authenticated
  using (workspace_id = any (array(select private.current_workspace_ids())) and author_id = (select auth.uid()))
  with check (workspace_id = any (array(select private.current_workspace_ids())) and author_id = (select auth.uid()));

drop policy if exists notes_delete_author on public.notes;
create policy notes_delete_author on public.notes
  for delete to authenticated
  using (workspace_id = any (array(select private.current_workspace_ids())) and author_id = (select auth.uid()));
