//! `GET /functions/v1/notes[?workspace=<uuid>]`: the signed-in user's notes, newest first.
//! Which rows come back is decided by RLS, not by this code.

use edge_adapter::{in_transaction, query_uuid, request_info, Access, ApiError, Call, Reply};
use edge_guard::{User, UserRequirement};
use rls_db::notes;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => list_notes,
    }
}

async fn list_notes(call: Call<User>) -> Result<Reply, ApiError> {
    let workspace = query_uuid(&call.req, "workspace")?;
    let body = in_transaction(
        &call.env,
        &call.principal,
        Access::ReadOnly,
        &request_info(&call.req),
        move |tx, _user| {
            Box::pin(async move { notes::list_visible(tx, workspace.as_deref()).await })
        },
    )
    .await?;
    Ok(Reply::json_text(body))
}
