//! `GET /functions/v1/notes[?workspace=<uuid>]`: the signed-in user's notes, newest first.
//! `GET /functions/v1/notes/export[?workspace=<uuid>]`: the same rows as a bulk export, a
//! sensitive action: it needs a second factor (aal2) and a sign-in within the last 15 minutes.
//! `POST /functions/v1/notes`: writes a note (body [`NewNote`]), answers 201 with it.
//! Which rows come back, and where a note may be written, is decided by RLS, not by this code.

use api_input::{Text, Uuid};
use edge_adapter::{
    in_transaction, json_body, query_uuid, request_info, Access, ApiError, Call, Reply,
};
use edge_guard::{User, UserRequirement};
use rls_db::notes;
use serde::Deserialize;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => list_notes,
        POST "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => create_note,
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

/// The most a note's JSON body may take: 10,000 characters of up to 4 bytes, escapes and the
/// other fields included.
const NOTE_BODY_MAX_BYTES: usize = 64 * 1024;

/// Who sees a note besides its author (`sql/migrations/0005_notes.sql`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Visibility {
    /// Every member of the workspace.
    #[default]
    Team,
    /// The author only.
    Private,
}

impl Visibility {
    fn as_str(self) -> &'static str {
        match self {
            Visibility::Team => "team",
            Visibility::Private => "private",
        }
    }
}

/// `POST /functions/v1/notes`: `{"workspace_id": uuid, "body": 1–10,000 chars, "visibility"?:
/// "team" | "private"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNote {
    workspace_id: Uuid,
    body: Text<1, 10_000>,
    #[serde(default)]
    visibility: Visibility,
}

async fn create_note(mut call: Call<User>) -> Result<Reply, ApiError> {
    let note: NewNote = json_body(&mut call.req, NOTE_BODY_MAX_BYTES).await?;
    let created = in_transaction(
        &call.env,
        &call.principal,
        Access::ReadWrite,
        &request_info(&call.req),
        move |tx, _user| {
            Box::pin(async move {
                notes::create(
                    tx,
                    note.workspace_id.as_str(),
                    note.body.as_str(),
                    note.visibility.as_str(),
                )
                .await
            })
        },
    )
    .await?;
    Ok(Reply::json_text_status(201, created))
}
