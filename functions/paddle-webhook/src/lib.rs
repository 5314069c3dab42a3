//! `POST /functions/v1/paddle-webhook`: a Paddle Billing notification.
//! Guard: `Paddle-Signature` over the raw body. The event is stored once per `event_id`: a new or
//! already-stored event answers 200 (Paddle stops retrying); a storage failure answers 503 (it
//! retries); a bad signature answers 401.

use edge_adapter::{
    in_transaction, paddle_webhook, request_info, require_method, respond, Access, ApiError, Reply,
};
use rls_db::webhook_events::{store_once, Stored};
use serde_json::json;
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    respond(receive(req, env).await)
}

async fn receive(mut req: Request, env: Env) -> Result<Reply, ApiError> {
    require_method(&req, Method::Post)?;
    let event = paddle_webhook(&mut req, &env).await?;

    let stored = in_transaction(
        &env,
        &event,
        Access::ReadWrite,
        &request_info(&req),
        |tx, event| Box::pin(store_once(tx, event)),
    )
    .await?;
    Ok(Reply::json(
        200,
        json!({ "received": true, "duplicate": stored == Stored::AlreadyStored }),
    ))
}
