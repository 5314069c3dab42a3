//! `POST /functions/v1/paddle-webhook`: a Paddle Billing notification. The event is stored once
//! per `event_id`: a new or already-stored event answers 200 (Paddle stops retrying); a storage
//! failure answers 503 (it retries); a bad signature answers 401 (from the guard).

use edge_adapter::{in_transaction, request_info, Access, ApiError, Call, Reply};
use edge_guard::VerifiedWebhook;
use rls_db::webhook_events::{store_once, Stored};
use serde_json::json;

edge_adapter::serve! {
    routes {
        POST "/functions/v1/paddle-webhook" => paddle_webhook => receive,
    }
}

async fn receive(call: Call<VerifiedWebhook>) -> Result<Reply, ApiError> {
    let stored = in_transaction(
        &call.env,
        &call.principal,
        Access::ReadWrite,
        &request_info(&call.req),
        |tx, event| Box::pin(store_once(tx, event)),
    )
    .await?;
    Ok(Reply::json(
        200,
        json!({ "received": true, "duplicate": stored == Stored::AlreadyStored }),
    ))
}
