-- Why: files uploaded through the `files` function live in an R2 bucket; this table is their
-- metadata and the only authority on who may fetch them. Who sees a file follows the notes' three
-- tiers: its creator, the workspace's members when it is a team file, and whoever holds a live
-- share link to it (share_links gains a `file_id`, and the token check is shared with notes).
-- Each file has two objects: the original as uploaded and a processed copy (metadata stripped /
-- text normalised). Their keys are generated from the workspace and file ids, so every object
-- lies under `<workspace_id>/` and no caller can choose a key. Originals are purged from R2 after
-- the retention window by the cron (`purge_file_originals` below), the processed copy stays.
create table if not exists public.files (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  created_by uuid not null default auth.uid(),
  name text not null check (length(name) between 1 and 200),
  content_type text not null check (content_type in ('image/png', 'image/jpeg', 'text/plain; charset=utf-8')),
  visibility text not null default 'team' check (visibility in ('team', 'private')),
  original_bytes bigint not null check (original_bytes between 1 and 10485760),
  processed_bytes bigint not null check (processed_bytes between 1 and 10485760),
  original_key text generated always as (workspace_id::text || '/' || id::text || '/original') stored,
  processed_key text generated always as (workspace_id::text || '/' || id::text || '/processed') stored,
  created_at timestamptz not null default now(),
  original_purged_at timestamptz,
  -- Lets share links name the file's workspace too, and have it checked.
  unique (id, workspace_id)
);

comment on table public.files is $$Files stored in R2 (the `files` function): metadata and object keys. Uploaded by members as
themselves; members read team files, private files only their creator; a live share link opens
one file to whoever holds its token. Files are never edited; the creator deletes.
rls-matrix: tenant=workspace_id rows=visibility:team select=member,share insert=member update=none delete=creator:created_by truncate=none
rls-matrix: rows=visibility:private select=creator:created_by insert=member update=none delete=creator:created_by truncate=none$$;

create index if not exists files_workspace_id_idx on public.files (workspace_id, created_at desc);
create index if not exists files_created_by_idx on public.files (created_by);
create index if not exists files_original_due_idx on public.files (created_at) where original_purged_at is null;

alter table public.files enable row level security;
alter table public.files force row level security;
revoke all on public.files from anon, authenticated, service_role;
grant select, insert (workspace_id, name, content_type, visibility, original_bytes, processed_bytes), delete
  on public.files to authenticated;
grant select on public.files to anon;

-- Share links open a note or a file: exactly one of them, in the link's workspace.
alter table public.share_links alter column note_id drop not null;
alter table public.share_links add column if not exists file_id uuid;
alter table public.share_links drop constraint if exists share_links_file_in_workspace;
alter table public.share_links add constraint share_links_file_in_workspace
  foreign key (file_id, workspace_id) references public.files (id, workspace_id) on delete cascade;
alter table public.share_links drop constraint if exists share_links_one_target;
alter table public.share_links add constraint share_links_one_target check (num_nonnulls(note_id, file_id) = 1);
create index if not exists share_links_file_id_idx on public.share_links (file_id, workspace_id);
grant insert (file_id) on public.share_links to authenticated;

-- The creator must be able to read what they share (the subqueries run under the caller's RLS).
drop policy if exists share_links_insert_manager on public.share_links;
create policy share_links_insert_manager on public.share_links
  for insert to authenticated
  with check (
    workspace_id = any (array(select private.managed_workspace_ids()))
    and created_by = (select auth.uid())
    and (note_id is null or note_id in (select n.id from public.notes n))
    and (file_id is null or file_id in (select f.id from public.files f))
  );

-- The live links the caller's `x-share-token` header names (none without the header): unexpired,
-- unrevoked, in a workspace that is not deleted. Notes and files both read their links here.
create or replace function private.live_share_links() returns setof public.share_links
  language sql stable security definer set search_path = ''
  as $$
    select s.*
      from public.share_links s
      join public.workspaces w on w.id = s.workspace_id
     where s.token_hash = private.request_header_sha256('x-share-token')
       and s.revoked_at is null
       and s.expires_at > now()
       and w.deleted_at is null
  $$;
revoke execute on function private.live_share_links() from public, anon, authenticated;

create or replace function private.shared_note_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select s.note_id
      from private.live_share_links() s
      join public.notes n on n.id = s.note_id
     where n.deleted_at is null
  $$;

create or replace function private.shared_file_ids() returns setof uuid
  language sql stable security definer set search_path = ''
  as $$
    select s.file_id from private.live_share_links() s where s.file_id is not null
  $$;
revoke execute on function private.shared_file_ids() from public;
grant execute on function private.shared_file_ids() to anon, authenticated;

drop policy if exists files_select_member on public.files;
create policy files_select_member on public.files
  for select to authenticated
  using (
    (workspace_id = any (array(select private.current_workspace_ids()))
     and (created_by = (select auth.uid()) or visibility = 'team'))
    or id = any (array(select private.shared_file_ids()))
  );

drop policy if exists files_select_shared on public.files;
create policy files_select_shared on public.files
  for select to anon
  using (id = any (array(select private.shared_file_ids())));

drop policy if exists files_insert_member_as_self on public.files;
create policy files_insert_member_as_self on public.files
  for insert to authenticated
  with check (
    workspace_id = any (array(select private.current_workspace_ids()))
    and created_by = (select auth.uid())
  );

drop policy if exists files_delete_creator on public.files;
create policy files_delete_creator on public.files
  for delete to authenticated
  using (workspace_id = any (array(select private.current_workspace_ids())) and created_by = (select auth.uid()));

drop trigger if exists files_audit on public.files;
create trigger files_audit after insert or delete on public.files
  for each row execute function private.audit_change('workspace_id', 'id');

-- Originals older than the retention window and not purged yet, oldest first (at most p_limit):
-- the cron deletes these objects from R2, then marks them with mark_file_originals_purged.
create or replace function public.file_originals_due(p_retention interval, p_trigger text, p_limit integer)
  returns table (id uuid, original_key text)
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    perform private.check_job_call(p_retention, p_trigger);
    return query
      select f.id, f.original_key from public.files f
       where f.original_purged_at is null and f.created_at < now() - p_retention
       order by f.created_at
       limit least(greatest(p_limit, 0), 1000);
  end
  $$;
revoke execute on function public.file_originals_due(interval, text, integer) from public, anon, authenticated;
grant execute on function public.file_originals_due(interval, text, integer) to service_role;

-- Marks originals whose objects the cron deleted (only those due under the same window) and
-- records the run. Returns how many.
create or replace function public.mark_file_originals_purged(p_retention interval, p_trigger text, p_ids uuid[])
  returns bigint
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    purged bigint;
  begin
    perform private.check_job_call(p_retention, p_trigger);
    update public.files set original_purged_at = now()
     where id = any (p_ids) and original_purged_at is null and created_at < now() - p_retention;
    get diagnostics purged = row_count;
    insert into public.cron_runs (job, trigger, rows_affected)
      values ('purge_file_originals', p_trigger, purged);
    return purged;
  end
  $$;
revoke execute on function public.mark_file_originals_purged(interval, text, uuid[]) from public, anon, authenticated;
grant execute on function public.mark_file_originals_purged(interval, text, uuid[]) to service_role;

-- Every object key of one user's files (account deletion removes them from R2 before the rows).
create or replace function public.file_object_keys_of_user(p_user uuid) returns setof text
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    perform private.assert_service_role();
    return query
      select k from public.files f, unnest(array[f.original_key, f.processed_key]) k
       where f.created_by = p_user;
  end
  $$;
revoke execute on function public.file_object_keys_of_user(uuid) from public, anon, authenticated;
grant execute on function public.file_object_keys_of_user(uuid) to service_role;
