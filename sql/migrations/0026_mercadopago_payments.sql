-- Why: a Mercado Pago notification signs only the payment's id, so the function fetches the
-- payment from Mercado Pago's API (GET /v1/payments/{id}) and hands the fetched resource here; the
-- unsigned notification body is never acted on. A payment updates its workspace's Mercado Pago
-- state on billing_accounts: which payment, its status, and when Mercado Pago last changed it
-- (newer state wins), plus the payer as the Mercado Pago customer. The workspace is the payment's
-- `external_reference`, which the backend sets to the workspace id when it creates the checkout.
-- Whether a workspace is entitled by that state (e.g. status 'approved') is the product's rule.
alter table public.billing_accounts
  add column if not exists mercadopago_payment_id text check (length(mercadopago_payment_id) between 1 and 64),
  add column if not exists mercadopago_payment_status text check (mercadopago_payment_status in (
    'pending', 'approved', 'authorized', 'in_process', 'in_mediation', 'rejected', 'cancelled',
    'refunded', 'charged_back')),
  add column if not exists mercadopago_payment_updated_at timestamptz;

-- Applies a payment fetched from Mercado Pago's API for a stored notification, in the transaction
-- that marks the notification processed (or failed, with the reason). Returns the outcome:
-- 'applied', 'stale' (Mercado Pago's date_last_updated is not newer than the state applied),
-- 'already processed', or 'failed: <reason>'.
create or replace function public.apply_mercadopago_payment(p_event_id text, p_payment jsonb) returns text
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    e public.webhook_events;
    payer text := p_payment #>> '{payer,id}';
    payment_status text := p_payment ->> 'status';
    changed_at timestamptz;
    target uuid;
    account public.billing_accounts;
  begin
    perform private.assert_service_role();
    e := private.webhook_event_for_update('mercadopago', p_event_id);
    if e.status = 'processed' then
      return 'already processed';
    end if;
    begin
      -- The resource must be the one whose id Mercado Pago signed.
      if e.resource_id is null or p_payment ->> 'id' is distinct from e.resource_id then
        raise exception 'resource_mismatch';
      end if;
      if payment_status is null or payment_status not in ('pending', 'approved', 'authorized', 'in_process',
           'in_mediation', 'rejected', 'cancelled', 'refunded', 'charged_back') then
        raise exception 'invalid_payment: status';
      end if;
      changed_at := coalesce(p_payment ->> 'date_last_updated', p_payment ->> 'date_created')::timestamptz;
      if changed_at is null or not isfinite(changed_at) then
        raise exception 'invalid_payment: date_last_updated';
      end if;
      target := private.live_workspace(p_payment ->> 'external_reference');
      account := private.billing_account_for_update(target);
      update public.webhook_events set workspace_id = target where id = e.id;
      if changed_at <= coalesce(account.mercadopago_payment_updated_at, '-infinity') then
        return private.finish_webhook_event(e.id, true, 'stale');
      end if;
      update public.billing_accounts b
         set mercadopago_payment_id = e.resource_id,
             mercadopago_payment_status = payment_status,
             mercadopago_payment_updated_at = changed_at,
             mercadopago_customer_id = case
               when length(payer) between 1 and 64 and not exists (
                      select 1 from public.billing_accounts o
                       where o.mercadopago_customer_id = payer and o.workspace_id <> target)
               then payer else b.mercadopago_customer_id end,
             updated_at = now()
       where b.workspace_id = target;
    exception when others then
      return private.finish_webhook_event(e.id, false, sqlerrm);
    end;
    return private.finish_webhook_event(e.id, true, 'applied');
  end
  $$;
revoke execute on function public.apply_mercadopago_payment(text, jsonb) from public, anon, authenticated;
grant execute on function public.apply_mercadopago_payment(text, jsonb) to service_role;

-- Records why an event could not be processed (e.g. Mercado Pago's API did not answer), so the
-- replay tries it again later. A processed event stays processed.
create or replace function public.fail_webhook_event(p_provider text, p_event_id text, p_reason text) returns text
  language plpgsql volatile security definer set search_path = ''
  as $$
  declare
    e public.webhook_events;
  begin
    perform private.assert_service_role();
    e := private.webhook_event_for_update(p_provider, p_event_id);
    if e.status = 'processed' then
      return 'already processed';
    end if;
    return private.finish_webhook_event(e.id, false, coalesce(p_reason, 'unknown'));
  end
  $$;
revoke execute on function public.fail_webhook_event(text, text, text) from public, anon, authenticated;
grant execute on function public.fail_webhook_event(text, text, text) to service_role;
