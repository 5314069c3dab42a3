//! Share links: created and revoked by a workspace's owners and admins, read by anyone holding a
//! token (`sql/migrations/0011_share_links.sql`, `0020_share_link_revocation.sql`). The token is
//! made by the database (two v4 uuids: 244 bits from its strong random source), returned once,
//! and stored only as its sha256.

use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::found;
use crate::notes::NOTE_JSON;
use crate::DbError;

/// Longest life a link may be given (the table allows at most a year), and the default.
pub const MAX_EXPIRY_DAYS: i32 = 365;
pub const DEFAULT_EXPIRY_DAYS: i32 = 30;

/// What a share link opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// A note (not in the trash), by id.
    Note(String),
    /// A stored file, by id.
    File(String),
}

/// Creates a link to `target` that expires in `expires_in_days` (1..=365) and returns it with its
/// token: `{id, workspace_id, note_id, file_id, token, created_at, expires_at}`, the only time the
/// token is shown. A note or file the caller cannot see (a note in the trash) is
/// [`DbError::NotFound`]; a caller who sees it but does not manage its workspace is refused by
/// the insert policy (403).
pub async fn create(
    tx: &Transaction<'_>,
    target: &Shared,
    expires_in_days: i32,
) -> Result<String, DbError> {
    let (id, column, source) = match target {
        Shared::Note(id) => (
            id,
            "note_id",
            "public.notes s where s.deleted_at is null and",
        ),
        Shared::File(id) => (id, "file_id", "public.files s where"),
        // `source` names the table as `s` and opens its WHERE clause.
    };
    let rows = tx
        .query_typed(
            &format!(
                "with t as materialized (
                   select replace(gen_random_uuid()::text, '-', '')
                          || replace(gen_random_uuid()::text, '-', '') as token),
                 link as (
                   insert into public.share_links (workspace_id, {column}, token_hash, expires_at)
                   select s.workspace_id, s.id, sha256(convert_to(t.token, 'UTF8')),
                          now() + make_interval(days => $2)
                     from t, {source} s.id = $1::uuid
                   returning id, workspace_id, note_id, file_id, created_at, expires_at)
                 select json_build_object('id', l.id, 'workspace_id', l.workspace_id,
                          'note_id', l.note_id, 'file_id', l.file_id, 'token', t.token,
                          'created_at', l.created_at, 'expires_at', l.expires_at)::text
                   from link l, t"
            ),
            &[(&id, Type::TEXT), (&expires_in_days, Type::INT4)],
        )
        .await?;
    found(rows)
}

/// Revokes link `id` for good (the server's clock; revoking again changes nothing) and returns
/// it. A link the caller cannot see (members see none) is [`DbError::NotFound`].
pub async fn revoke(tx: &Transaction<'_>, id: &str) -> Result<String, DbError> {
    let rows = tx
        .query_typed(
            "update public.share_links s set revoked_at = coalesce(s.revoked_at, now())
              where s.id = $1::uuid
             returning json_build_object('id', s.id, 'workspace_id', s.workspace_id,
                         'note_id', s.note_id, 'file_id', s.file_id, 'created_by', s.created_by,
                         'created_at', s.created_at, 'expires_at', s.expires_at,
                         'revoked_at', s.revoked_at)::text",
            &[(&id, Type::TEXT)],
        )
        .await?;
    found(rows)
}

/// The note the request's `x-share-token` header opens, for anyone holding it (the anon role
/// included). No filter here: the notes policies show exactly that one note, or nothing.
pub async fn shared_note(tx: &Transaction<'_>) -> Result<String, DbError> {
    let sql = format!("select {NOTE_JSON}::text from public.notes n limit 1");
    found(tx.query_typed(&sql, &[]).await?)
}
