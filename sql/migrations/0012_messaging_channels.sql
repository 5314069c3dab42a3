-- Why: a Meta (WhatsApp Business) webhook names the receiving number only by its
-- `phone_number_id`; this table maps that id to the one workspace that connected it, so an
-- inbound message can be filed under its tenant. A number belongs to at most one workspace.
create table if not exists public.messaging_channels (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  provider text not null default 'meta' check (provider in ('meta')),
  phone_number_id text not null unique check (phone_number_id ~ '^[0-9]{1,32}$'),
  display_phone_number text check (length(display_phone_number) <= 32),
  created_by uuid not null default auth.uid(),
  created_at timestamptz not null default now()
);

-- What the API may do with it; the attack matrix (shared/attack-matrix) reads this tag.
comment on table public.messaging_channels is $$WhatsApp numbers a workspace connected: members read, owners and admins manage.
rls-matrix: tenant=workspace_id select=member insert=admin,owner update=admin,owner delete=admin,owner truncate=none$$;

create index if not exists messaging_channels_workspace_id_idx on public.messaging_channels (workspace_id);

alter table public.messaging_channels enable row level security;
alter table public.messaging_channels force row level security;
revoke all on public.messaging_channels from anon, authenticated, service_role;
grant select, insert (id, workspace_id, provider, phone_number_id, display_phone_number),
      update (display_phone_number), delete
  on public.messaging_channels to authenticated;

drop policy if exists messaging_channels_select_member on public.messaging_channels;
create policy messaging_channels_select_member on public.messaging_channels
  for select to authenticated
  using (workspace_id = any (array(select private.current_workspace_ids())));

drop policy if exists messaging_channels_insert_manager on public.messaging_channels;
create policy messaging_channels_insert_manager on public.messaging_channels
  for insert to authenticated
  with check (workspace_id = any (array(select private.managed_workspace_ids())) and created_by = (select auth.uid()));

drop policy if exists messaging_channels_update_manager on public.messaging_channels;
create policy messaging_channels_update_manager on public.messaging_channels
  for update to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())))
  with check (workspace_id = any (array(select private.managed_workspace_ids())));

drop policy if exists messaging_channels_delete_manager on public.messaging_channels;
create policy messaging_channels_delete_manager on public.messaging_channels
  for delete to authenticated
  using (workspace_id = any (array(select private.managed_workspace_ids())));

drop trigger if exists messaging_channels_audit on public.messaging_channels;
create trigger messaging_channels_audit after insert or update or delete on public.messaging_channels
  for each row execute function private.audit_change('workspace_id', 'id');

-- For the Meta webhook (service_role, no table grants): the workspace a number belongs to, or
-- NULL when no live workspace connected it. Pass the result to record_webhook_event.
create or replace function public.workspace_for_phone_number(p_phone_number_id text) returns uuid
  language plpgsql stable security definer set search_path = ''
  as $$
  begin
    perform private.assert_service_role();
    if p_phone_number_id is null or p_phone_number_id !~ '^[0-9]{1,32}$' then
      raise exception 'phone_number_id must be 1 to 32 digits' using errcode = '22023';
    end if;
    return (select c.workspace_id
              from public.messaging_channels c
              join public.workspaces w on w.id = c.workspace_id
             where c.phone_number_id = p_phone_number_id and w.deleted_at is null);
  end
  $$;
revoke execute on function public.workspace_for_phone_number(text) from public, anon, authenticated;
grant execute on function public.workspace_for_phone_number(text) to service_role;
