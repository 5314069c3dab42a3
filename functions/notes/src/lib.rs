//! `GET /functions/v1/notes[?workspace=<uuid>]`: the signed-in user's notes, newest first.
//! `GET /functions/v1/notes/export[?workspace=<uuid>]`: the same rows as a bulk export, a
//! sensitive action: it needs a second factor (aal2) and a sign-in within the last 15 minutes.
//! Which rows come back is decided by RLS, not by this code.

use edge_adapter::{in_transaction, query_uuid, request_info, Access, ApiError, Call, Reply};
use edge_guard::{User, UserRequirement};
use rls_db::notes;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => list_notes,
        GET "/functions/v1/notes/export" => user(
            UserRequirement::SIGNED_IN.with_aal2().with_recent_sign_in(EXPORT_SIGN_IN_MAX_AGE_SECS)
        ) => list_notes,
    }
}

const EXPORT_SIGN_IN_MAX_AGE_SECS: u64 = 15 * 60;

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
