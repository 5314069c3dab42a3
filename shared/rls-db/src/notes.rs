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
