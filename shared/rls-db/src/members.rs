//! A workspace's members. Who may change roles or remove whom is the policies' decision
//! (sql/migrations/0004: owners and admins, only an owner touches an owner, a workspace keeps an
//! owner); removing someone also withdraws their invitations and revokes their share links (0019).

use edge_guard::Refusal;
use tokio_postgres::Transaction;

use crate::rows::{changed, optional_text, unchanged, WORKSPACE_NOT_FOUND};
use crate::DbError;

/// At most this many members per listing.
pub const LIST_LIMIT: i64 = 1000;

const MEMBER_NOT_FOUND: Refusal =
    Refusal::new(404, "member_not_found", "no such member in this workspace");

const MEMBER_JSON: &str = "\
select json_build_object('user_id', m.user_id, 'role', m.role, 'joined_at', m.created_at,
         'display_name', p.display_name, 'avatar_url', p.avatar_url)
  from public.memberships m
  left join public.profiles p on p.id = m.user_id";

/// The workspace's members with their profiles, oldest membership first; 404 when the caller is
/// not a member of a live workspace by that id.
pub async fn list(
    tx: &Transaction<'_>,
    workspace_id: &str,
) -> Result<Result<String, Refusal>, DbError> {
    let sql = format!(
        "select coalesce(json_agg(l.j), '[]')::text
           from ({MEMBER_JSON} where m.workspace_id = $1::uuid
                 order by m.created_at, m.user_id limit {LIST_LIMIT}) l(j)
          having exists (select 1 from public.workspaces w where w.id = $1::uuid and w.deleted_at is null)"
    );
    Ok(optional_text(tx, &sql, &[workspace_id])
        .await?
        .ok_or(WORKSPACE_NOT_FOUND))
}

async fn one(
    tx: &Transaction<'_>,
    workspace_id: &str,
    user_id: &str,
) -> Result<Result<String, Refusal>, DbError> {
    let sql = format!(
        "select j::text from ({MEMBER_JSON} where m.workspace_id = $1::uuid and m.user_id = $2::uuid) l(j)"
    );
    Ok(optional_text(tx, &sql, &[workspace_id, user_id])
        .await?
        .ok_or(MEMBER_NOT_FOUND))
}

/// What a change that touched no membership means for the caller.
async fn explain_unchanged(
    tx: &Transaction<'_>,
    workspace_id: &str,
    user_id: &str,
) -> Result<Refusal, DbError> {
    unchanged(
        tx,
        "select 1 from public.memberships where workspace_id = $1::uuid and user_id = $2::uuid",
        &[workspace_id, user_id],
        MEMBER_NOT_FOUND,
    )
    .await
}

/// Gives `user_id` the role `role` in the workspace.
pub async fn change_role(
    tx: &Transaction<'_>,
    workspace_id: &str,
    user_id: &str,
    role: &str,
) -> Result<Result<String, Refusal>, DbError> {
    let n = changed(
        tx,
        "update public.memberships set role = $3
          where workspace_id = $1::uuid and user_id = $2::uuid",
        &[workspace_id, user_id, role],
    )
    .await?;
    if n == 0 {
        return Ok(Err(explain_unchanged(tx, workspace_id, user_id).await?));
    }
    one(tx, workspace_id, user_id).await
}

/// Removes `user_id` from the workspace (or the caller leaves, when it is their own id).
pub async fn remove(
    tx: &Transaction<'_>,
    workspace_id: &str,
    user_id: &str,
) -> Result<Result<(), Refusal>, DbError> {
    let n = changed(
        tx,
        "delete from public.memberships where workspace_id = $1::uuid and user_id = $2::uuid",
        &[workspace_id, user_id],
    )
    .await?;
    if n == 0 {
        return Ok(Err(explain_unchanged(tx, workspace_id, user_id).await?));
    }
    Ok(Ok(()))
}
