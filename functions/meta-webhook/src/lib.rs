//! `/functions/v1/meta-webhook`: Meta's webhooks (WhatsApp Cloud API, and any other Meta object
//! the app subscribes to).
//!
//! - `GET`: the subscribe handshake. A configured verify token answers 200 `text/plain` with the
//!   challenge; a wrong token 403, a malformed request 400 (JSON errors from the guard).
//! - `POST`: a delivery signed in `X-Hub-Signature-256`, stored once (dedupe key: the SHA-256 of
//!   the exact body, so Meta's retries of it are duplicates). It is filed under the workspace
//!   its `entry[].changes[].value.metadata.phone_number_id` numbers belong to; a batch naming
//!   numbers of several workspaces, or any unknown number, is stored without a workspace (see
//!   `rls_db::webhook_events::meta_workspace`). 200 stops Meta's retries, 503 (database down)
//!   makes it retry, a bad signature is 401. Its WhatsApp text messages are then handed to the
//!   queue `whatsapp-inbound` (a 503 when the queue refuses them, so Meta retries).
//! - Queue consumer of `whatsapp-inbound`: answers each message once (per `wamid`, whatever Meta
//!   or the queue redelivers), only on numbers a workspace proved it owns, and sends the answer
//!   with the Graph API's `messages` endpoint (`edge_adapter::answer_whatsapp_batch`).

use edge_adapter::{ApiError, Call, MetaChallenge, Reply};

edge_adapter::serve! {
    routes {
        GET "/functions/v1/meta-webhook" => meta_subscription => answer_handshake,
        POST "/functions/v1/meta-webhook" => meta_webhook => edge_adapter::store_and_queue_whatsapp,
    }
    queue {
        "whatsapp-inbound": whatsapp_inbound::InboundText => edge_adapter::answer_whatsapp_batch,
    }
}

async fn answer_handshake(call: Call<MetaChallenge>) -> Result<Reply, ApiError> {
    Ok(Reply::plain_text(200, call.principal.into_challenge()))
}
