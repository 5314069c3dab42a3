//! The public API for server-to-server callers: each request presents an API key in
//! `X-Api-Key` (`rlse_…`, minted with `functions/api-keys`), and each route declares the scope
//! it needs. The key is proven in the request's own transaction (live, not expired, of a live
//! workspace, granting the scope) and the notes policies for key callers show and accept team
//! notes of the key's workspace only.
//!
//! - `GET /functions/v1/api-v1/notes` (`notes:read`): the workspace's live team notes.
//! - `GET /functions/v1/api-v1/note?id=<uuid>` (`notes:read`): one of them; 404 otherwise.
//! - `POST /functions/v1/api-v1/notes` (`notes:write`): creates a team note ([`NewNote`]).

use api_input::{Text, Uuid};
use edge_adapter::{json_body, required_query_uuid, Access, ApiError, Call, Reply};
use edge_guard::ApiKeyClient;
use rls_db::{api_keys, notes};
use serde::Deserialize;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/api-v1/notes" => api_key("notes:read") => list_notes,
        GET "/functions/v1/api-v1/note" => api_key("notes:read") => get_note,
        POST "/functions/v1/api-v1/notes" => api_key("notes:write") => create_note,
    }
}

/// A note body is at most 10,000 characters (40 KB of UTF-8); JSON escaping adds the rest.
const NOTE_BODY_MAX_BYTES: usize = 64 * 1024;

/// `POST /functions/v1/api-v1/notes`: `{"body": 1–10,000 chars, "workspace_id"?: uuid}` (the
/// key's own workspace when absent; another is 404).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNote {
    body: Text<1, 10_000>,
    workspace_id: Option<Uuid>,
}

async fn list_notes(call: Call<ApiKeyClient>) -> Result<Reply, ApiError> {
    call.answer_single(Access::ReadOnly, 200, notes::list(None, notes::Shelf::Live))
        .await
}

async fn get_note(call: Call<ApiKeyClient>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    call.answer_single(Access::ReadOnly, 200, notes::get(&id))
        .await
}

async fn create_note(mut call: Call<ApiKeyClient>) -> Result<Reply, ApiError> {
    let note: NewNote = json_body(&mut call.req, NOTE_BODY_MAX_BYTES).await?;
    call.answer_from_db(Access::ReadWrite, 201, move |tx, _key| {
        Box::pin(async move {
            let workspace = note.workspace_id.as_ref().map(Uuid::as_str);
            api_keys::create_note(tx, workspace, note.body.as_str()).await
        })
    })
    .await
}
