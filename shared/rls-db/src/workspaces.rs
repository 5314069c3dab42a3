//! Workspaces, as the signed-in user sees them. Who may rename, delete or restore is decided in
//! SQL (policies and the deletion trigger, sql/migrations/0004 and 0017); these statements only
//! read back what the database allowed and say why when it allowed nothing.

use edge_guard::Refusal;
use tokio_postgres::Transaction;

use crate::rows::{changed, forbidden, optional_text, unchanged, WORKSPACE_NOT_FOUND};
use crate::DbError;

/// At most this many workspaces per listing.
pub const LIST_LIMIT: i64 = 200;

/// One workspace as JSON: its deletion state and the caller's role. A deleted workspace is
/// visible only to its owners (RLS), whose membership row RLS hides while it is deleted.
const WORKSPACE_JSON: &str = "\
select json_build_object('id', w.id, 'name', w.name, 'created_at', w.created_at,
         'deleted_at', w.deleted_at,
         'restorable_until', w.deleted_at + private.soft_delete_grace(),
         'role', coalesce(m.role, 'owner'))
  from public.workspaces w
  left join public.memberships m on m.workspace_id = w.id and m.user_id = (select auth.uid())";

/// The caller's workspaces (deleted ones they own included), oldest first.
pub async fn list_mine(tx: &Transaction<'_>) -> Result<String, DbError> {
    let sql = format!(
        "select coalesce(json_agg(j order by j->>'created_at', j->>'id'), '[]')::text
           from ({WORKSPACE_JSON} order by w.created_at, w.id limit {LIST_LIMIT}) l(j)"
    );
    Ok(optional_text(tx, &sql, &[])
        .await?
        .unwrap_or_else(|| "[]".into()))
}

async fn one(tx: &Transaction<'_>, id: &str) -> Result<Option<String>, DbError> {
    optional_text(
        tx,
        &format!("select j::text from ({WORKSPACE_JSON} where w.id = $1::uuid) l(j)"),
        &[id],
    )
    .await
}

/// Creates a workspace named `name` with an id the database generates; the caller becomes its
/// owner (trigger). The row is read back afterwards: RETURNING would be checked before the owner
/// trigger has run.
pub async fn create(tx: &Transaction<'_>, name: &str) -> Result<String, DbError> {
    let id = optional_text(tx, "select gen_random_uuid()::text", &[])
        .await?
        .ok_or(DbError::UnexpectedResult("no generated id"))?;
    changed(
        tx,
        "insert into public.workspaces (id, name) values ($1::uuid, $2)",
        &[&id, name],
    )
    .await?;
    one(tx, &id).await?.ok_or(DbError::UnexpectedResult(
        "the new workspace is not visible",
    ))
}

/// Renames a workspace (owners and admins).
pub async fn rename(
    tx: &Transaction<'_>,
    id: &str,
    name: &str,
) -> Result<Result<String, Refusal>, DbError> {
    let n = changed(
        tx,
        "update public.workspaces set name = $2 where id = $1::uuid",
        &[id, name],
    )
    .await?;
    if n == 0 {
        return Ok(Err(unchanged(
            tx,
            "select 1 from public.workspaces where id = $1::uuid",
            &[id],
            WORKSPACE_NOT_FOUND,
        )
        .await?));
    }
    Ok(one(tx, id).await?.ok_or(WORKSPACE_NOT_FOUND))
}

/// Whether the caller sees the workspace and, if so, whether it is deleted and past its grace.
async fn deletion_state(tx: &Transaction<'_>, id: &str) -> Result<Option<(bool, bool)>, DbError> {
    let row = tx
        .query_typed_opt(
            "select deleted_at is not null,
                    coalesce(deleted_at <= now() - private.soft_delete_grace(), false)
               from public.workspaces where id = $1::uuid",
            &crate::rows::text_params(&[id]),
        )
        .await?;
    Ok(match row {
        Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
        None => None,
    })
}

/// Soft-deletes a workspace (owners at aal2; the deletion time is the server's clock, 0017).
pub async fn delete(tx: &Transaction<'_>, id: &str) -> Result<Result<String, Refusal>, DbError> {
    let n = changed(
        tx,
        "update public.workspaces set deleted_at = now() where id = $1::uuid and deleted_at is null",
        &[id],
    )
    .await?;
    if n == 0 {
        return Ok(Err(match deletion_state(tx, id).await? {
            None => WORKSPACE_NOT_FOUND,
            Some((true, _)) => {
                Refusal::new(409, "already_deleted", "this workspace is already deleted")
            }
            Some((false, _)) => forbidden(),
        }));
    }
    Ok(one(tx, id).await?.ok_or(WORKSPACE_NOT_FOUND))
}

/// Restores a deleted workspace within its grace period (owners at aal2; SQL refuses a restore
/// past the grace period whatever path it comes by, 0017).
pub async fn restore(tx: &Transaction<'_>, id: &str) -> Result<Result<String, Refusal>, DbError> {
    match deletion_state(tx, id).await? {
        None => return Ok(Err(WORKSPACE_NOT_FOUND)),
        Some((false, _)) => {
            return Ok(Err(Refusal::new(
                409,
                "not_deleted",
                "this workspace is not deleted",
            )))
        }
        Some((true, true)) => {
            return Ok(Err(Refusal::new(
                410,
                "grace_period_over",
                "the grace period for restoring this workspace is over",
            )))
        }
        Some((true, false)) => {}
    }
    let n = changed(
        tx,
        "update public.workspaces set deleted_at = null where id = $1::uuid and deleted_at is not null",
        &[id],
    )
    .await?;
    if n == 0 {
        return Ok(Err(forbidden()));
    }
    Ok(one(tx, id).await?.ok_or(WORKSPACE_NOT_FOUND))
}
