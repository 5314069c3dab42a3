-- Why: a note can be shown to someone outside the workspace through a link an owner or admin
-- creates. The link's token is the only credential: just its sha256 is stored, it expires, and it
-- can be revoked. The reader (anon, or any signed-in user) sends the raw token in the
-- `x-share-token` request header (PostgREST copies headers into `request.headers`; so does our
-- Rust data path); a private helper hashes it and yields the one note it opens. This file also
-- holds the notes SELECT policies, since they include that rule.
create table if not exists public.share_links (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  note_id uuid not null,
  token_hash bytea not null unique check (length(token_hash) = 32),
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '30 days',
  revoked_at timestamptz,
  check (expires_at > created_at and expires_at <= created_at + interval '1 year'),
  -- The note is in the link's workspace: a link can never point across tenants.
  foreign key (note_id, workspace_id) references public.notes (id, workspace_id) on delete cascade
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.share_links is $$Links opening one note to token holders, managed by the workspace's owners and admins.
rls-matrix: tenant=workspace_id select=admin,owner insert=admin,owner update=admin,owner delete=admin,owner truncate=none fresh=id,token_hash,expires_at$$;

create index if not exists share_links_workspace_id_idx on public.share_links (workspace_id);
create index if not exists share_links_note_id_idx on public.share_links (note_id, workspace_id);

-- The notes the caller's `x-share-token` header opens (none without the header): the link is
-- unexpired and unrevoked, the note and its workspace are not deleted.
create or replace function private.shared_note_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select s.note_id
      from public.share_links s
      join public.notes n on n.id = s.note_id
      join public.workspaces w on w.id = s.workspace_id
     where s.token_hash = private.request_header_sha256('x-share-token')
       and s.revoked_at is null
       and s.expires_at > now()
       and n.deleted_at is null
       and w.deleted_at is null
  $$;
revoke execute on function private.shared_note_ids() from public;
grant execute on function private.shared_note_ids() to anon, authenticated;

alter table public.share_links enable row level security;
alter table public.share_links force row level security;
revoke all on public.share_links from anon, authenticated, service_role;
grant select, insert (id, workspace_id, note_id, token_hash, expires_at), update (revoked_at), delete
  on public.share_links to authenticated;

drop policy if exists share_links_select_manager on public.share_links;
create policy share_links_select_manager on public.share_links
  for select to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

-- The creator must be able to read the note (the subquery runs under the caller's own RLS): an
-- admin cannot publish a member's private note by guessing its id.
drop policy if exists share_links_insert_manager on public.share_links;
create policy share_links_insert_manager on public.share_links
  for insert to authenticated
  with check (
    workspace_id = any (array(select private.managed_workspace_ids()))
    and created_by = (select auth.uid())
    and note_id in (select n.id from public.notes n)
  );

drop policy if exists share_links_update_manager on public.share_links;
create policy share_links_update_manager on public.share_links
  for update to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())))
  with check (workspace_id = any (array(select private.managed_workspace_ids())));

drop policy if exists share_links_delete_manager on public.share_links;
create policy share_links_delete_manager on public.share_links
  for delete to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

drop trigger if exists share_links_audit on public.share_links;
create trigger share_links_audit after insert or update or delete on public.share_links
  for each row execute function private.audit_change('workspace_id', 'id');

-- Notes: members see team notes and their own (their trash included); anyone holding a valid
-- share token sees that one note. One policy per role, so each SELECT runs one policy.
grant select on public.notes to anon;

drop policy if exists notes_select_member on public.notes;
create policy notes_select_member on public.notes
  for select to authenticated
  using (
    (workspace_id = any (array(select private.current_workspace_ids()))
     and (author_id = (select auth.uid()) or (visibility = 'team' and deleted_at is null)))
    or id = any (array(select private.shared_note_ids()))
  );

drop policy if exists notes_select_shared on public.notes;
create policy notes_select_shared on public.notes
  for select to anon
  using (id = any (array(select private.shared_note_ids())));
