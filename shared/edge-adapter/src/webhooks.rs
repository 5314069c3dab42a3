//! The one handler every webhook function uses (store the verified delivery once, then process
//! it), and the replay that processes whatever is still pending.

use std::collections::BTreeMap;

use edge_guard::{CronCaller, DbPrincipal, VerifiedWebhook, WebhookProvider};
use rls_db::webhook_events::{
    self, apply_mercadopago_payment, meta_workspace, record_failure, store_and_process, Stored,
    AWAITING_PAYMENT_FETCH,
};
use rls_db::{Access, RequestInfo};
use serde_json::{json, Value};
use worker::Env;

use crate::upstream::mercadopago_payment;
use crate::{in_single_statement, in_transaction, request_info, ApiError, Call, Reply};

/// Events one replay run goes through; Mercado Pago fetches among them stay well below a
/// Worker's subrequest limit (50 on the free plan).
const REPLAY_BATCH: i32 = 40;

/// Stores a verified delivery once per (provider, event id) as the service role (a Meta delivery
/// filed under its numbers' workspace, see `rls_db::webhook_events::meta_workspace`), processes
/// it in the same transaction (`public.process_webhook_event`: a Paddle event updates
/// billing_accounts; a failure is recorded on the row, never raised), and answers 200
/// `{"stored": <this request stored it>, "duplicate": <it was already stored>, "outcome": …}`:
/// both stop the provider's retries. A Mercado Pago notification is then applied from the
/// payment fetched by its signed id, in a second transaction: the stored row is already safe.
/// A database failure while storing answers 503 (the provider retries). Storing and processing
/// are one statement: one round trip, except for Meta, whose workspace is looked up first.
pub async fn store_webhook(call: Call<VerifiedWebhook>) -> Result<Reply, ApiError> {
    let request = request_info(&call.req);
    let (stored, mut outcome) = match call.principal.provider() {
        WebhookProvider::Meta => {
            in_transaction(
                &call.env,
                &call.principal,
                Access::ReadWrite,
                &request,
                |tx, event| {
                    Box::pin(async move {
                        let workspace = meta_workspace(tx, event.payload()).await?;
                        store_and_process(event, workspace.as_deref()).run(tx).await
                    })
                },
            )
            .await?
        }
        _ => {
            let statement = store_and_process(&call.principal, None);
            in_single_statement(
                &call.env,
                &call.principal,
                Access::ReadWrite,
                &request,
                statement,
            )
            .await?
        }
    };
    if let (AWAITING_PAYMENT_FETCH, Some(payment_id)) =
        (outcome.as_str(), call.principal.resource_id())
    {
        outcome = apply_mercadopago_notification(
            &call.env,
            &call.principal,
            &request,
            call.principal.event_id(),
            payment_id,
        )
        .await
        // Stored is what the provider needs to hear; the replay finishes the rest.
        .unwrap_or_else(|error| {
            worker::console_error!("mercadopago apply: {}", error.status_code_message().1);
            AWAITING_PAYMENT_FETCH.to_owned()
        });
    }
    Ok(Reply::json(
        200,
        json!({
            "stored": stored == Stored::New,
            "duplicate": stored == Stored::AlreadyStored,
            "outcome": outcome,
        }),
    ))
}

/// Fetches the payment a stored Mercado Pago notification signed (`payment_id`) and applies it
/// (`public.apply_mercadopago_payment`), or records on the row why it could not: Mercado Pago
/// unreachable or refusing, the access token missing. Returns the outcome.
async fn apply_mercadopago_notification<P: DbPrincipal + 'static>(
    env: &Env,
    principal: &P,
    request: &RequestInfo,
    event_id: &str,
    payment_id: &str,
) -> Result<String, ApiError> {
    let payment: Result<Value, String> = match mercadopago_payment(env, payment_id).await {
        Ok(answer) if answer.status == 200 => serde_json::from_slice(&answer.body)
            .map_err(|_| "mercadopago_api: the payment is not JSON".to_owned()),
        Ok(answer) => Err(format!("mercadopago_api: status {}", answer.status)),
        Err(error) => Err(format!(
            "mercadopago_api: {}",
            error.status_code_message().1
        )),
    };
    let event_id = event_id.to_owned();
    in_transaction(env, principal, Access::ReadWrite, request, move |tx, _| {
        Box::pin(async move {
            match payment {
                Ok(payment) => apply_mercadopago_payment(tx, &event_id, &payment).await,
                Err(reason) => record_failure(tx, "mercadopago", &event_id, &reason).await,
            }
        })
    })
    .await
}

/// Processes every stored event that is not processed yet (at most [`REPLAY_BATCH`] per run,
/// least recently tried first; failed ones after a back-off): Paddle and Meta in SQL, Mercado
/// Pago by fetching each payment. Idempotent: a processed event is never processed again, and
/// an older Paddle event or payment state never overwrites newer state. Returns
/// `{"replayed": n, "outcomes": {"applied": n, …}}`.
pub async fn replay_webhooks(
    env: &Env,
    caller: &CronCaller,
    request: &RequestInfo,
) -> Result<Value, ApiError> {
    let replayed = in_transaction(env, caller, Access::ReadWrite, request, |tx, _| {
        Box::pin(webhook_events::replay(tx, REPLAY_BATCH))
    })
    .await?;
    let mut outcomes: BTreeMap<String, u32> = BTreeMap::new();
    for event in &replayed {
        let mut outcome = event.outcome.clone();
        if let (AWAITING_PAYMENT_FETCH, Some(payment_id)) =
            (outcome.as_str(), event.resource_id.as_deref())
        {
            if event.provider == WebhookProvider::MercadoPago.as_str() {
                outcome = apply_mercadopago_notification(
                    env,
                    caller,
                    request,
                    &event.event_id,
                    payment_id,
                )
                .await?;
            }
        }
        // Failures are counted by kind, not by their detail.
        let kind = outcome.split(':').next().unwrap_or_default().to_owned();
        *outcomes.entry(kind).or_default() += 1;
    }
    Ok(json!({ "replayed": replayed.len(), "outcomes": outcomes }))
}
