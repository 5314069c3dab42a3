//! Files' metadata, read and written as the caller (`sql/migrations/0048_files.sql`). No tenant
//! filter here: the policies decide which files exist for the caller (creator, team, share link),
//! so an object is only ever fetched from R2 after Postgres showed its row. Object keys are
//! generated columns (`<workspace_id>/<file_id>/original|processed`), never chosen by a caller.

use edge_guard::CronCaller;
use tokio_postgres::types::Type;
use tokio_postgres::{Row, Transaction};

use crate::error::{done_or_why, single_value};
use crate::retention::trigger_name;
use crate::DbError;

/// At most this many files per list (newest first).
pub const PAGE_SIZE: i64 = 100;

/// A file as the API shows it, built from the row alias `f` (no object keys).
const FILE_JSON: &str = "json_build_object('id', f.id, 'workspace_id', f.workspace_id,
    'created_by', f.created_by, 'name', f.name, 'content_type', f.content_type,
    'visibility', f.visibility, 'original_bytes', f.original_bytes,
    'processed_bytes', f.processed_bytes, 'created_at', f.created_at,
    'original_purged_at', f.original_purged_at)";

/// What an upload stores: the row's columns a caller provides.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub workspace_id: String,
    pub name: String,
    pub content_type: &'static str,
    pub visibility: &'static str,
    pub original_bytes: i64,
    pub processed_bytes: i64,
}

/// A file row just written: its JSON and where its two objects go.
#[derive(Debug, Clone)]
pub struct CreatedFile {
    pub id: String,
    pub json: String,
    pub original_key: String,
    pub processed_key: String,
}

/// Writes a file's row as the caller. A workspace the caller is not a member of is
/// [`DbError::NotFound`] (read under RLS first, as notes do); the insert policy then requires
/// membership and the caller as creator.
pub async fn create(tx: &Transaction<'_>, file: &NewFile) -> Result<CreatedFile, DbError> {
    let sql = format!(
        "with f as (
           insert into public.files (workspace_id, name, content_type, visibility,
                                     original_bytes, processed_bytes)
           select w.id, $2, $3, $4, $5, $6 from public.workspaces w where w.id = $1::uuid
           returning *)
         select f.id::text, {FILE_JSON}::text, f.original_key, f.processed_key from f"
    );
    let row = tx
        .query_typed_opt(
            &sql,
            &[
                (&file.workspace_id, Type::TEXT),
                (&file.name, Type::TEXT),
                (&file.content_type, Type::TEXT),
                (&file.visibility, Type::TEXT),
                (&file.original_bytes, Type::INT8),
                (&file.processed_bytes, Type::INT8),
            ],
        )
        .await?
        .ok_or(DbError::NotFound)?;
    Ok(CreatedFile {
        id: row.try_get(0)?,
        json: row.try_get(1)?,
        original_key: row.try_get(2)?,
        processed_key: row.try_get(3)?,
    })
}

/// The files the caller sees in one workspace, newest first, as a JSON array.
pub async fn list(tx: &Transaction<'_>, workspace_id: &str) -> Result<String, DbError> {
    let sql = format!(
        "select coalesce(json_agg(x.file order by x.created_at desc, x.id), '[]')::text
           from (select {FILE_JSON} as file, f.created_at, f.id from public.files f
                  where f.workspace_id = $1::uuid
                  order by f.created_at desc, f.id limit $2) x"
    );
    let rows = tx
        .query_typed(
            &sql,
            &[(&workspace_id, Type::TEXT), (&PAGE_SIZE, Type::INT8)],
        )
        .await?;
    single_value(rows)
}

/// Which stored copy to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileCopy {
    Original,
    Processed,
}

/// Where a visible file's copy is and how to answer it.
#[derive(Debug, Clone)]
pub struct StoredObject {
    pub key: String,
    pub content_type: String,
    pub name: String,
    /// The original was purged by retention (only for [`FileCopy::Original`]).
    pub purged: bool,
}

fn stored_object(row: &Row) -> Result<StoredObject, DbError> {
    Ok(StoredObject {
        key: row.try_get(0)?,
        content_type: row.try_get(1)?,
        name: row.try_get(2)?,
        purged: row.try_get(3)?,
    })
}

/// The object of file `id` (`None` = the one the request's share token opens) in `copy`, when
/// RLS shows the caller the row; [`DbError::NotFound`] otherwise.
pub async fn object(
    tx: &Transaction<'_>,
    id: Option<&str>,
    copy: FileCopy,
) -> Result<StoredObject, DbError> {
    let original = copy == FileCopy::Original;
    let row = tx
        .query_typed_opt(
            "select case when $2 then f.original_key else f.processed_key end, f.content_type,
                    f.name, $2 and f.original_purged_at is not null
               from public.files f
              where $1::uuid is null or f.id = $1::uuid
              limit 1",
            &[(&id, Type::TEXT), (&original, Type::BOOL)],
        )
        .await?
        .ok_or(DbError::NotFound)?;
    stored_object(&row)
}

/// Deletes file `id` as the caller (only its creator may) and answers its JSON with the keys of
/// the objects to remove: [`DbError::WrongRole`] when the caller sees it but did not create it,
/// [`DbError::NotFound`] when they do not see it.
pub async fn delete(tx: &Transaction<'_>, id: &str) -> Result<(String, [String; 2]), DbError> {
    let sql = format!(
        "with f as (delete from public.files f where f.id = $1::uuid returning f.*)
         select (select {FILE_JSON}::text from f),
                exists (select 1 from public.files v where v.id = $1::uuid),
                (select f.original_key from f), (select f.processed_key from f)"
    );
    let rows = tx.query_typed(&sql, &[(&id, Type::TEXT)]).await?;
    let row = rows.first().ok_or(DbError::UnexpectedResult("no row"))?;
    let keys = (
        row.try_get::<_, Option<String>>(2)?,
        row.try_get::<_, Option<String>>(3)?,
    );
    let json = done_or_why(rows)?;
    match keys {
        (Some(original), Some(processed)) => Ok((json, [original, processed])),
        _ => Err(DbError::UnexpectedResult("deleted file without keys")),
    }
}

/// Originals older than `retention_days` still in R2: `(file id, object key)`, oldest first, at
/// most `limit`.
pub async fn originals_due(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    retention_days: i32,
    limit: i32,
) -> Result<Vec<(String, String)>, DbError> {
    let rows = tx
        .query_typed(
            "select id::text, original_key
               from public.file_originals_due(make_interval(days => $1), $2, $3)",
            &[
                (&retention_days, Type::INT4),
                (&trigger_name(caller), Type::TEXT),
                (&limit, Type::INT4),
            ],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// Marks the originals `ids` (whose objects were deleted) purged and records the run in
/// `cron_runs`. Returns how many were marked.
pub async fn mark_originals_purged(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    retention_days: i32,
    ids: &[String],
) -> Result<i64, DbError> {
    let rows = tx
        .query_typed(
            "select public.mark_file_originals_purged(make_interval(days => $1), $2, $3::uuid[])",
            &[
                (&retention_days, Type::INT4),
                (&trigger_name(caller), Type::TEXT),
                (&ids, Type::TEXT_ARRAY),
            ],
        )
        .await?;
    single_value(rows)
}

/// Every object key of the files `user_id` created (service role only): what account deletion
/// removes from R2.
pub async fn object_keys_of_user(
    tx: &Transaction<'_>,
    user_id: &str,
) -> Result<Vec<String>, DbError> {
    let rows = tx
        .query_typed(
            "select k from public.file_object_keys_of_user($1::uuid) k",
            &[(&user_id, Type::TEXT)],
        )
        .await?;
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
}
