-- Why: any signed-in owner or admin could insert any WhatsApp phone_number_id into
-- messaging_channels (first come wins) and have another tenant's deliveries filed under their own
-- workspace. Connecting a number now needs proof of ownership that only the `channels` function
-- can check: Meta's Graph API, asked with the tenant's own access token, must list the number
-- among its WhatsApp Business Account's numbers. So no API role may insert or update the table
-- any more; the function, holding that proof, connects the number through
-- public.connect_messaging_channel (service_role only) for the signed-in caller it names in the
-- claims' `sub`. Members still read their channels, owners and admins still disconnect them.
alter table public.messaging_channels
  -- The WhatsApp Business Account that listed the number (NULL for channels connected before
  -- ownership was checked).
  add column if not exists waba_id text check (waba_id ~ '^[0-9]{1,32}$');

revoke insert, update on public.messaging_channels from authenticated;
drop policy if exists messaging_channels_insert_manager on public.messaging_channels;
drop policy if exists messaging_channels_update_manager on public.messaging_channels;

comment on table public.messaging_channels is $$WhatsApp numbers a workspace connected: members read, owners and admins disconnect; only the channels function connects (ownership proven with Meta's Graph API).
rls-matrix: tenant=workspace_id select=member insert=none update=none delete=admin,owner truncate=none$$;

-- Connects a number the caller proved its WABA holds, for the user in the claims' `sub`, who must
-- be an owner or admin of the live workspace. Returns 'connected', 'already_connected' (this
-- workspace has it), 'taken' (another workspace has it: the first to prove ownership keeps it
-- until it disconnects), 'not_found' (no such live workspace among the caller's) or 'forbidden'
-- (a member, but not owner or admin).
create or replace function public.connect_messaging_channel(
  p_workspace_id uuid,
  p_waba_id text,
  p_phone_number_id text,
  p_display_phone_number text
) returns text
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    caller uuid := (select auth.uid());
    caller_role text;
    holder uuid;
  begin
    perform private.assert_service_role();
    if caller is null then
      raise exception 'the connecting user is required (claims sub)' using errcode = '42501';
    end if;
    if p_waba_id is null or p_waba_id !~ '^[0-9]{1,32}$'
       or p_phone_number_id is null or p_phone_number_id !~ '^[0-9]{1,32}$'
       or length(p_display_phone_number) > 32 then
      raise exception 'ids must be 1 to 32 digits, the display number at most 32 characters'
        using errcode = '22023';
    end if;
    select m.role into caller_role
      from public.memberships m join public.workspaces w on w.id = m.workspace_id and w.deleted_at is null
     where m.workspace_id = p_workspace_id and m.user_id = caller;
    if caller_role is null then
      return 'not_found';
    end if;
    if caller_role not in ('owner', 'admin') then
      return 'forbidden';
    end if;
    select c.workspace_id into holder from public.messaging_channels c
     where c.phone_number_id = p_phone_number_id for update;
    if holder = p_workspace_id then
      return 'already_connected';
    elsif holder is not null then
      return 'taken';
    end if;
    insert into public.messaging_channels (workspace_id, provider, phone_number_id, display_phone_number,
                                           waba_id, created_by)
      values (p_workspace_id, 'meta', p_phone_number_id, p_display_phone_number, p_waba_id, caller)
      on conflict (phone_number_id) do nothing;
    return case when found then 'connected' else 'taken' end;
  end
  $$;
revoke execute on function public.connect_messaging_channel(uuid, text, text, text) from public, anon, authenticated;
grant execute on function public.connect_messaging_channel(uuid, text, text, text) to service_role;
