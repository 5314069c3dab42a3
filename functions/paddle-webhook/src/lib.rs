//! `POST /functions/v1/paddle-webhook`: a Paddle Billing notification.
//! Guard: `Paddle-Signature` over the raw body. The event is stored once per `event_id`: a new or
//! already-stored event answers 200 (Paddle stops retrying); a storage failure answers 503 (it
//! retries); a bad signature answers 401.

use edge_adapter::{connect_db, paddle_webhook, request_info, require_method, respond, ApiError, Reply};
use rls_db::webhook_events::{store_once, Stored};
use rls_db::{begin_as, Access};
use serde_json::json;
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    respond(receive(req, env).await)
}

async fn receive(mut req: Request, env: Env) -> Result<Reply, ApiError> {
    require_method(&req, Method::Post)?;
    let event = paddle_webhook(&mut req, &env).await?;

    let mut db = connect_db(&env).await?;
    let tx = begin_as(&mut db, &event, Access::ReadWrite, &request_info(&req)).await?;
    let stored = store_once(&tx, &event).await?;
    tx.commit().await?;
    Ok(Reply::json(200, json!({ "received": true, "duplicate": stored == Stored::AlreadyStored })))
}
