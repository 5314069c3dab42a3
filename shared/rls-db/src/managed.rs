//! What a workspace's owners and admins read: its billing state, its audit trail, its share
//! links. Each query reads under RLS (the tables' policies admit managers only); the wrapper only
//! chooses the answer when RLS shows nothing, with the policies' own helper, so a plain member
//! hears 403 and an outsider 404, as if the workspace did not exist.

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Transaction;

use crate::error::done_or_why;
use crate::DbError;

/// At most this many audit-log entries per page; the default page.
pub const AUDIT_PAGE_MAX: i64 = 100;
pub const AUDIT_PAGE_DEFAULT: i64 = 50;
/// At most this many share links per list (newest first).
pub const SHARE_LINKS_MAX: i64 = 100;

/// Runs `query` (one JSON text value; `$1` is the workspace) for a manager of `workspace_id`;
/// [`DbError::WrongRole`] for a member who is not one, [`DbError::NotFound`] for anyone else.
pub(crate) async fn for_managers(
    tx: &Transaction<'_>,
    query: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<String, DbError> {
    let sql = format!(
        "select case when $1::uuid = any (array(select private.managed_workspace_ids()))
                     then ({query}) end,
                exists (select 1 from public.workspaces w where w.id = $1::uuid)"
    );
    done_or_why(tx.query_typed(&sql, params).await?)
}

/// The workspace's `billing_accounts` row as JSON.
pub async fn billing_state(tx: &Transaction<'_>, workspace_id: &str) -> Result<String, DbError> {
    for_managers(
        tx,
        "select row_to_json(b)::text from public.billing_accounts b where b.workspace_id = $1::uuid",
        &[(&workspace_id, Type::TEXT)],
    )
    .await
}

/// One page of the workspace's audit log, newest first: `{"entries": [...], "next_before": id |
/// null}`. Keyset pagination: pass `next_before` back as `before` for the next page (stable while
/// new entries arrive). `limit` is clamped to 1..=[`AUDIT_PAGE_MAX`].
pub async fn audit_page(
    tx: &Transaction<'_>,
    workspace_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<String, DbError> {
    let limit = limit.clamp(1, AUDIT_PAGE_MAX);
    for_managers(
        tx,
        "select json_build_object(
                  'entries', coalesce(json_agg(a order by a.id desc), '[]'),
                  'next_before', case when count(*) = $3 then min(a.id) end)::text
           from (select id, actor_id, action, target_table, target_id, details, created_at
                   from public.audit_log
                  where workspace_id = $1::uuid and ($2::int8 is null or id < $2::int8)
                  order by id desc
                  limit $3) a",
        &[
            (&workspace_id, Type::TEXT),
            (&before, Type::INT8),
            (&limit, Type::INT8),
        ],
    )
    .await
}

/// The workspace's share links (never a token or its hash), newest first.
pub async fn share_links(tx: &Transaction<'_>, workspace_id: &str) -> Result<String, DbError> {
    for_managers(
        tx,
        "select coalesce(json_agg(json_build_object(
                  'id', s.id, 'workspace_id', s.workspace_id, 'note_id', s.note_id, 'file_id', s.file_id,
                  'created_by', s.created_by, 'created_at', s.created_at,
                  'expires_at', s.expires_at, 'revoked_at', s.revoked_at)
                  order by s.created_at desc, s.id), '[]')::text
           from (select * from public.share_links
                  where workspace_id = $1::uuid
                  order by created_at desc, id
                  limit $2) s",
        &[(&workspace_id, Type::TEXT), (&SHARE_LINKS_MAX, Type::INT8)],
    )
    .await
}
