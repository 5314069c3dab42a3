-- Why: the tenant-scoped content the SPA reads and writes. Every row belongs to one workspace;
-- only that workspace's members see it, and only as themselves may they write it.
create table if not exists public.notes (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  author_id uuid not null default auth.uid(),
  body text not null check (length(body) between 1 and 10000),
  created_at timestamptz not null default now()
);
create index if not exists notes_workspace_id_idx on public.notes (workspace_id, created_at desc);

alter table public.notes enable row level security;
alter table public.notes force row level security;

grant select, insert, update, delete on public.notes to authenticated;

drop policy if exists notes_select_member on public.notes;
create policy notes_select_member on public.notes
  for select to authenticated
  using (workspace_id in (select private.current_workspace_ids()));

drop policy if exists notes_insert_member_as_self on public.notes;
create policy notes_insert_member_as_self on public.notes
  for insert to authenticated
  with check (
    workspace_id in (select private.current_workspace_ids())
    and author_id = (select auth.uid())
  );

drop policy if exists notes_update_author on public.notes;
create policy notes_update_author on public.notes
  for update to authenticated
  using (workspace_id in (select private.current_workspace_ids()) and author_id = (select auth.uid()))
  with check (workspace_id in (select private.current_workspace_ids()) and author_id = (select auth.uid()));

drop policy if exists notes_delete_author on public.notes;
create policy notes_delete_author on public.notes
  for delete to authenticated
  using (workspace_id in (select private.current_workspace_ids()) and author_id = (select auth.uid()));
