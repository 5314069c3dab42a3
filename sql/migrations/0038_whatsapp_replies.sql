-- Why: an inbound WhatsApp message reaches the reply consumer through a Cloudflare Queue, which
-- delivers at least once, and Meta itself redelivers webhooks (the same body, or the same message
-- in a new batch). The consumer must answer each message once, so each inbound `wamid` gets one
-- row here, claimed before the answer is made and marked sent after Meta accepted the reply.
-- Only numbers a workspace proved it owns (messaging_channels with a waba_id, checked against
-- Meta's Graph API when connected) are answered. No API role holds a grant on the table: the
-- consumer (as service_role) goes through the functions below.
create table if not exists public.whatsapp_replies (
  wamid text primary key check (length(wamid) between 1 and 200),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  phone_number_id text not null check (phone_number_id ~ '^[0-9]{1,32}$'),
  -- The customer's WhatsApp id (their number), where the reply goes.
  from_wa_id text not null check (from_wa_id ~ '^[0-9]{1,20}$'),
  status text not null default 'answering' check (status in ('answering', 'sent')),
  -- A consumer answering holds the claim until then; a crashed one's claim lapses.
  claimed_until timestamptz not null,
  attempts integer not null default 1 check (attempts >= 1),
  -- Why the last attempt did not send (an error code, never a message body).
  last_error text check (length(last_error) <= 200),
  reply_wamid text check (length(reply_wamid) <= 200),
  received_at timestamptz not null default now(),
  sent_at timestamptz
);

comment on table public.whatsapp_replies is $$One row per inbound WhatsApp message the platform answers, claimed once, through claim_whatsapp_reply only.
rls-matrix: service-only tenant=none$$;

create index if not exists whatsapp_replies_workspace_id_idx on public.whatsapp_replies (workspace_id);

alter table public.whatsapp_replies enable row level security;
alter table public.whatsapp_replies force row level security;
revoke all on public.whatsapp_replies from anon, authenticated, service_role;

-- Claims inbound message `p_wamid` for answering, for `p_claim_secs` seconds. Returns the
-- outcome and the workspace:
--   'claimed'      answer it now (first delivery, or an earlier claim lapsed or was released);
--   'answered'     a reply was sent already: drop this delivery;
--   'in_progress'  another consumer holds a live claim: try again after it lapses;
--   'not_ours'     no live workspace proved it owns the number: never answered.
create or replace function public.claim_whatsapp_reply(
  p_wamid text,
  p_phone_number_id text,
  p_from_wa_id text,
  p_claim_secs integer
) returns table (outcome text, workspace_id uuid)
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    owner_workspace uuid;
    existing public.whatsapp_replies;
  begin
    perform private.assert_service_role();
    if p_claim_secs is null or p_claim_secs not between 1 and 3600 then
      raise exception 'claim between 1 and 3600 seconds' using errcode = '22023';
    end if;
    select c.workspace_id into owner_workspace
      from public.messaging_channels c
      join public.workspaces w on w.id = c.workspace_id and w.deleted_at is null
     where c.phone_number_id = p_phone_number_id and c.waba_id is not null;
    if owner_workspace is null then
      return query select 'not_ours'::text, null::uuid;
      return;
    end if;
    insert into public.whatsapp_replies (wamid, workspace_id, phone_number_id, from_wa_id, claimed_until)
      values (p_wamid, owner_workspace, p_phone_number_id, p_from_wa_id,
              now() + make_interval(secs => p_claim_secs))
      on conflict (wamid) do nothing;
    if found then
      return query select 'claimed'::text, owner_workspace;
      return;
    end if;
    select * into existing from public.whatsapp_replies r where r.wamid = p_wamid for update;
    if existing.status = 'sent' then
      return query select 'answered'::text, existing.workspace_id;
    elsif existing.claimed_until > now() then
      return query select 'in_progress'::text, existing.workspace_id;
    else
      update public.whatsapp_replies r
         set claimed_until = now() + make_interval(secs => p_claim_secs), attempts = r.attempts + 1
       where r.wamid = p_wamid;
      return query select 'claimed'::text, existing.workspace_id;
    end if;
  end
  $$;
revoke execute on function public.claim_whatsapp_reply(text, text, text, integer) from public, anon, authenticated;
grant execute on function public.claim_whatsapp_reply(text, text, text, integer) to service_role;

-- Ends a claim: `p_reply_wamid` (Meta's id of the reply) marks the message sent for good;
-- otherwise `p_error` is recorded and the claim released, so the next delivery answers it.
create or replace function public.finish_whatsapp_reply(
  p_wamid text,
  p_reply_wamid text,
  p_error text
) returns void
  language plpgsql volatile security definer set search_path = ''
  as $$
  begin
    perform private.assert_service_role();
    if p_reply_wamid is not null then
      update public.whatsapp_replies r
         set status = 'sent', reply_wamid = p_reply_wamid, sent_at = now(), last_error = null
       where r.wamid = p_wamid and r.status = 'answering';
    else
      update public.whatsapp_replies r
         set claimed_until = now(), last_error = left(p_error, 200)
       where r.wamid = p_wamid and r.status = 'answering';
    end if;
  end
  $$;
revoke execute on function public.finish_whatsapp_reply(text, text, text) from public, anon, authenticated;
grant execute on function public.finish_whatsapp_reply(text, text, text) to service_role;
