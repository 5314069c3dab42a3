//! `POST /functions/v1/resend-webhook`: Resend's e-mail delivery events, signed the Standard
//! Webhooks way (Svix: `webhook-id`, `webhook-timestamp`, `webhook-signature`; secrets `whsec_…`
//! in STANDARD_WEBHOOKS_SECRETS, current then previous during a rotation; ±5 minutes).
//! Each delivery is stored once per `webhook-id` under the workspace named by the e-mail's
//! `workspace_id` tag; a first `email.bounced` / `email.complained` records its recipients in
//! that workspace's `email_suppressions` (see `rls_db::email_events`). 200 once stored (or
//! already stored: a retry), 503 when the database is down (Resend retries), 401 for a missing,
//! stale or wrong signature.

use edge_adapter::{in_transaction, request_info, Access, ApiError, Call, Reply};
use edge_guard::VerifiedWebhook;
use rls_db::email_events::record;
use rls_db::webhook_events::Stored;
use serde_json::json;

edge_adapter::serve! {
    routes {
        POST "/functions/v1/resend-webhook" => standard_webhooks => record_delivery,
    }
}

async fn record_delivery(call: Call<VerifiedWebhook>) -> Result<Reply, ApiError> {
    let recorded = in_transaction(
        &call.env,
        &call.principal,
        Access::ReadWrite,
        &request_info(&call.req),
        |tx, event| Box::pin(record(tx, event)),
    )
    .await?;
    Ok(Reply::json(
        200,
        json!({
            "stored": recorded.stored == Stored::New,
            "duplicate": recorded.stored == Stored::AlreadyStored,
            "suppressed": recorded.suppressed,
        }),
    ))
}
