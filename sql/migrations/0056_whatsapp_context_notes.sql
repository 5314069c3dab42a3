-- Why: the WhatsApp reply consumer answers a customer from the notes of the workspace that owns
-- the number, but it runs as service_role, which holds no grant on notes (0003: the service role
-- reaches data only through its functions). This function is that one door, and a narrow one:
-- it reads only the team notes (never private ones or the trash) of the workspace whose message
-- the caller holds a live claim on (claim_whatsapp_reply, 0038), so a consumer cannot read any
-- workspace it was not asked about. NULL when the caller holds no live claim on `p_wamid`.
create or replace function public.whatsapp_context_notes(
  p_wamid text,
  p_limit bigint,
  p_max_chars integer
) returns text[]
  language plpgsql stable security definer set search_path = ''
  as $$
  declare
    claimed_workspace uuid;
  begin
    perform private.assert_service_role();
    if p_limit is null or p_limit not between 0 and 100
       or p_max_chars is null or p_max_chars not between 1 and 100000 then
      raise exception 'limit between 0 and 100, characters between 1 and 100000' using errcode = '22023';
    end if;
    select r.workspace_id into claimed_workspace
      from public.whatsapp_replies r
      join public.workspaces w on w.id = r.workspace_id and w.deleted_at is null
     where r.wamid = p_wamid and r.status = 'answering' and r.claimed_until > pg_catalog.now();
    if claimed_workspace is null then
      return null;
    end if;
    return array(
      select pg_catalog.left(n.body, p_max_chars)
        from public.notes n
       where n.workspace_id = claimed_workspace and n.visibility = 'team' and n.deleted_at is null
       order by n.created_at desc, n.id
       limit p_limit);
  end
  $$;
revoke execute on function public.whatsapp_context_notes(text, bigint, integer) from public, anon, authenticated;
grant execute on function public.whatsapp_context_notes(text, bigint, integer) to service_role;
