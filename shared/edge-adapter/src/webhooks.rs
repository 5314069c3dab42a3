//! The one handler every webhook function uses: store the verified delivery once, then answer.

use edge_guard::VerifiedWebhook;
use rls_db::webhook_events::{store_once, Stored};
use rls_db::Access;
use serde_json::json;

use crate::{in_transaction, request_info, ApiError, Call, Reply};

/// Stores a verified delivery once per (provider, event id) as the service role (a Meta delivery
/// filed under its numbers' workspace, see `rls_db::webhook_events::meta_workspace`) and answers
/// 200 `{"stored": <this request stored it>, "duplicate": <it was already stored>}`: both stop
/// the provider's retries. A database failure answers 503 (the provider retries); nothing acts
/// on the event before it is stored.
pub async fn store_webhook(call: Call<VerifiedWebhook>) -> Result<Reply, ApiError> {
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
        json!({ "stored": stored == Stored::New, "duplicate": stored == Stored::AlreadyStored }),
    ))
}
