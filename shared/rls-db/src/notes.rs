//! Notes, read as the calling user. No tenant filter here: which rows a user may see is the
//! policies' decision (sql/migrations/0005_notes.sql, 0011_share_links.sql), so a mistake here
//! cannot widen it.

use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::{done_or_why, found, single_value};
use crate::{DbError, SingleStatement};

/// At most this many notes per response (newest first).
pub const PAGE_SIZE: i64 = 100;

/// The caller's visible notes as a JSON array, optionally narrowed to one workspace, in the
/// columns the PostgREST path returns too ([`crate::DataPath::list_visible_notes`]).
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

/// Which notes a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// Live notes: the team's and the caller's own private ones.
    Live,
    /// The trash: notes with `deleted_at` set (RLS shows a trashed note to its author only).
    Trash,
}

/// The SPA's list: whole notes on `shelf` (newest first, at most [`PAGE_SIZE`]), optionally
/// narrowed to one workspace; RLS decides which rows. The JSON is built for the page only,
/// after the limit: built in the inner query, Postgres would build it for every visible row
/// before sorting (3.5× the database time of a list at a few thousand notes, EXPLAIN ANALYZE).
pub fn list(workspace_id: Option<&str>, shelf: Shelf) -> SingleStatement<'_, String> {
    SingleStatement::new(
        format!(
            "select coalesce(json_agg({NOTE_JSON} order by n.created_at desc, n.id), '[]')::text
               from (select id, workspace_id, author_id, body, visibility, created_at, deleted_at
                       from public.notes
                      where ($1::uuid is null or workspace_id = $1::uuid)
                        and (deleted_at is not null) = $3
                      order by created_at desc, id
                      limit $2) n"
        ),
        vec![
            (Box::new(workspace_id), Type::TEXT),
            (Box::new(PAGE_SIZE), Type::INT8),
            (Box::new(shelf == Shelf::Trash), Type::BOOL),
        ],
        single_value,
    )
}

/// One note the caller may see, as JSON; [`DbError::NotFound`] otherwise.
pub fn get(id: &str) -> SingleStatement<'_, String> {
    SingleStatement::new(
        format!("select {NOTE_JSON}::text from public.notes n where n.id = $1::uuid"),
        vec![(Box::new(id), Type::TEXT)],
        found,
    )
}

/// What an author does to a note after writing it.
#[derive(Debug, Clone)]
pub enum NoteChange {
    /// New text and/or visibility; `None` keeps what is there.
    Edit {
        body: Option<String>,
        visibility: Option<String>,
    },
    /// Into the trash (`deleted_at`, the server's clock; again is a no-op). The purge job
    /// removes it for good after the grace period.
    Trash,
    /// Out of the trash.
    Restore,
    /// Gone for good now.
    Delete,
}

/// Applies `change` to note `id` and returns the note as it now is (as it was, for a delete).
/// The policies decide: only the author changes a note. A note the caller can see but not change
/// is [`DbError::WrongRole`]; one they cannot see, [`DbError::NotFound`] (both: nothing changed).
pub fn change(id: &str, change: NoteChange) -> SingleStatement<'_, String> {
    let (statement, body, visibility) = match change {
        NoteChange::Edit { body, visibility } => (
            "update public.notes n set body = coalesce($2, n.body),
                    visibility = coalesce($3, n.visibility)
              where n.id = $1::uuid returning n.*",
            body,
            visibility,
        ),
        NoteChange::Trash => (
            "update public.notes n set deleted_at = coalesce(n.deleted_at, now())
              where n.id = $1::uuid and $2::text is null and $3::text is null returning n.*",
            None,
            None,
        ),
        NoteChange::Restore => (
            "update public.notes n set deleted_at = null
              where n.id = $1::uuid and $2::text is null and $3::text is null returning n.*",
            None,
            None,
        ),
        NoteChange::Delete => (
            "delete from public.notes n
              where n.id = $1::uuid and $2::text is null and $3::text is null returning n.*",
            None,
            None,
        ),
    };
    // The existence check reads the snapshot from before the change, under the same RLS.
    SingleStatement::new(
        format!(
            "with n as ({statement})
             select (select {NOTE_JSON}::text from n),
                    exists (select 1 from public.notes v where v.id = $1::uuid)"
        ),
        vec![
            (Box::new(id), Type::TEXT),
            (Box::new(body), Type::TEXT),
            (Box::new(visibility), Type::TEXT),
        ],
        done_or_why,
    )
}

/// A note as the API shows it, built from the row alias `n`.
pub(crate) const NOTE_JSON: &str = "json_build_object('id', n.id, 'workspace_id', n.workspace_id,
    'author_id', n.author_id, 'body', n.body, 'visibility', n.visibility,
    'created_at', n.created_at, 'deleted_at', n.deleted_at)";

/// Writes a note as the caller into `workspace_id` and returns it as JSON. The workspace is
/// read under RLS first: one the caller cannot see is [`DbError::NotFound`], never a hint that it
/// exists; the insert policy then requires membership and the caller as author.
pub fn create<'a>(
    workspace_id: &'a str,
    body: &'a str,
    visibility: &'a str,
) -> SingleStatement<'a, String> {
    SingleStatement::new(
        format!(
            "with n as (
               insert into public.notes (workspace_id, body, visibility)
               select w.id, $2, $3 from public.workspaces w where w.id = $1::uuid
               returning *)
             select {NOTE_JSON}::text from n"
        ),
        vec![
            (Box::new(workspace_id), Type::TEXT),
            (Box::new(body), Type::TEXT),
            (Box::new(visibility), Type::TEXT),
        ],
        found,
    )
}
