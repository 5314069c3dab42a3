//! The SPA's notes. Which rows a caller sees and may change is decided by RLS
//! (`sql/migrations/0005_notes.sql`, `0011_share_links.sql`), not by this code:
//!
//! - `GET /functions/v1/notes[?workspace=<uuid>]`: live notes, newest first.
//! - `GET /functions/v1/notes/trash[?workspace=<uuid>]`: the caller's trashed notes.
//! - `GET /functions/v1/notes/note?id=<uuid>`: one note.
//! - `POST /functions/v1/notes`: writes a note ([`NewNote`]), 201 with it.
//! - `PATCH /functions/v1/notes?id=<uuid>`: the author edits it ([`NoteEdit`]).
//! - `POST /functions/v1/notes/trash?id=<uuid>`, `POST /functions/v1/notes/restore?id=<uuid>`:
//!   into the trash (purged after the grace period) and back.
//! - `DELETE /functions/v1/notes?id=<uuid>`: gone for good at once, skipping the trash's grace
//!   period: irreversible, so it needs a second factor (aal2) and a sign-in within 15 minutes.

use api_input::{Text, Uuid};
use edge_adapter::{json_body, query_uuid, required_query_uuid, Access, ApiError, Call, Reply};
use edge_guard::{User, UserRequirement};
use rls_db::notes::{self, NoteChange, Shelf};
use serde::Deserialize;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => list_notes,
        POST "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => create_note,
        PATCH "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => edit_note,
        DELETE "/functions/v1/notes" => user(
            UserRequirement::SIGNED_IN.with_aal2().with_recent_sign_in(DELETE_SIGN_IN_MAX_AGE_SECS)
        ) => delete_note,
        GET "/functions/v1/notes/note" => user(UserRequirement::SIGNED_IN) => get_note,
        GET "/functions/v1/notes/trash" => user(UserRequirement::SIGNED_IN) => list_trash,
        POST "/functions/v1/notes/trash" => user(UserRequirement::SIGNED_IN) => trash_note,
        POST "/functions/v1/notes/restore" => user(UserRequirement::SIGNED_IN) => restore_note,
    }
}

const DELETE_SIGN_IN_MAX_AGE_SECS: u64 = 15 * 60;

/// The most a note's JSON body may take: 10,000 characters of up to 4 bytes, escapes and the
/// other fields included.
const NOTE_BODY_MAX_BYTES: usize = 64 * 1024;

/// Who sees a note besides its author.
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

/// `PATCH /functions/v1/notes?id=`: `{"body"?: 1–10,000 chars, "visibility"?: …}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteEdit {
    body: Option<Text<1, 10_000>>,
    visibility: Option<Visibility>,
}

async fn list_notes(call: Call<User>) -> Result<Reply, ApiError> {
    list_shelf(call, Shelf::Live).await
}

async fn list_trash(call: Call<User>) -> Result<Reply, ApiError> {
    list_shelf(call, Shelf::Trash).await
}

async fn list_shelf(call: Call<User>, shelf: Shelf) -> Result<Reply, ApiError> {
    let workspace = query_uuid(&call.req, "workspace")?;
    call.answer_single(
        Access::ReadOnly,
        200,
        notes::list(workspace.as_deref(), shelf),
    )
    .await
}

async fn get_note(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    call.answer_single(Access::ReadOnly, 200, notes::get(&id))
        .await
}

async fn create_note(mut call: Call<User>) -> Result<Reply, ApiError> {
    let note: NewNote = json_body(&mut call.req, NOTE_BODY_MAX_BYTES).await?;
    let (workspace, body) = (note.workspace_id.as_str(), note.body.as_str());
    let statement = notes::create(workspace, body, note.visibility.as_str());
    call.answer_single(Access::ReadWrite, 201, statement).await
}

async fn edit_note(mut call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    let edit: NoteEdit = json_body(&mut call.req, NOTE_BODY_MAX_BYTES).await?;
    let change = NoteChange::Edit {
        body: edit.body.map(Text::into_string),
        visibility: edit.visibility.map(|v| v.as_str().to_owned()),
    };
    change_note(call, id, change).await
}

async fn trash_note(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    change_note(call, id, NoteChange::Trash).await
}

async fn restore_note(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    change_note(call, id, NoteChange::Restore).await
}

async fn delete_note(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    change_note(call, id, NoteChange::Delete).await
}

/// One change to note `id` as the caller; answers the note as it now is (as it was, deleted).
async fn change_note(call: Call<User>, id: String, change: NoteChange) -> Result<Reply, ApiError> {
    call.answer_single(Access::ReadWrite, 200, notes::change(&id, change))
        .await
}
