//! Notes, read as the calling user. No tenant filter here: which rows a user may see is the
//! policies' decision (sql/migrations/0005_notes.sql, 0011_share_links.sql), so a mistake here
//! cannot widen it.

use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// At most this many notes per response (newest first).
pub const PAGE_SIZE: i64 = 100;

/// The caller's visible notes as a JSON array, optionally narrowed to one workspace.
/// The workspace id is the caller's wish, not a permission: RLS still decides.
pub async fn list_visible(
    tx: &Transaction<'_>,
    workspace_id: Option<&str>,
) -> Result<String, DbError> {
    let rows = tx
        .query_typed(
            "select coalesce(json_agg(n order by n.created_at desc, n.id), '[]')::text
               from (select id, workspace_id, author_id, body, created_at
                       from public.notes
                      where $1::uuid is null or workspace_id = $1::uuid
                      order by created_at desc, id
                      limit $2) n",
            &[(&workspace_id, Type::TEXT), (&PAGE_SIZE, Type::INT8)],
        )
        .await?;
    single_value(rows)
}

/// A note as the API shows it, built from the row alias `n`.
const NOTE_JSON: &str = "json_build_object('id', n.id, 'workspace_id', n.workspace_id,
    'author_id', n.author_id, 'body', n.body, 'visibility', n.visibility,
    'created_at', n.created_at, 'deleted_at', n.deleted_at)::text";

/// Writes a note as the caller into `workspace_id` and returns it as JSON. The workspace is
/// read under RLS first: one the caller cannot see is [`DbError::NotFound`], never a hint that it
/// exists; the insert policy then requires membership and the caller as author.
pub async fn create(
    tx: &Transaction<'_>,
    workspace_id: &str,
    body: &str,
    visibility: &str,
) -> Result<String, DbError> {
    let sql = format!(
        "with n as (
           insert into public.notes (workspace_id, body, visibility)
           select w.id, $2, $3 from public.workspaces w where w.id = $1::uuid
           returning *)
         select {NOTE_JSON} from n"
    );
    let rows = tx
        .query_typed(
            &sql,
            &[
                (&workspace_id, Type::TEXT),
                (&body, Type::TEXT),
                (&visibility, Type::TEXT),
            ],
        )
        .await?;
    found(rows)
}

/// The one JSON value a statement returns for a row RLS let through, or [`DbError::NotFound`].
fn found(rows: Vec<tokio_postgres::Row>) -> Result<String, DbError> {
    match rows.into_iter().next() {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(DbError::NotFound),
    }
}
