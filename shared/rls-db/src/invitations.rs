//! Invitations. Owners and admins create, list and withdraw them (policies in
//! sql/migrations/0010); the token is generated here by the database's random source, mailed to
//! the invitee and stored only as its sha256. Accepting is the policy-checked INSERT of one's own
//! membership with the token in `x-invitation-token`, as a PostgREST client would send it.

use edge_guard::Refusal;
use tokio_postgres::Transaction;

use crate::rows::{changed, forbidden, optional_text, WORKSPACE_NOT_FOUND};
use crate::DbError;

/// At most this many pending invitations per listing.
pub const LIST_LIMIT: i64 = 500;

const INVITATION_NOT_FOUND: Refusal =
    Refusal::new(404, "invitation_not_found", "no such pending invitation");

/// A new invitation, with what the e-mail to the invitee needs. `token` is the only copy of the
/// secret: mail it, never store or log it.
#[derive(Debug)]
pub struct NewInvitation {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub inviter_name: Option<String>,
    pub email: String,
    pub role: String,
    pub expires_at: String,
    pub token: String,
    /// The invitation as the API shows it (no token).
    pub json: String,
}

/// Whether the caller sees the live workspace, and whether they manage it (owner or admin), by
/// the same helpers the policies use.
async fn standing(tx: &Transaction<'_>, workspace_id: &str) -> Result<Option<bool>, DbError> {
    let row = tx
        .query_typed_opt(
            "select w.id = any (array(select private.managed_workspace_ids()))
               from public.workspaces w where w.id = $1::uuid and w.deleted_at is null",
            &crate::rows::text_params(&[workspace_id]),
        )
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// 404 for a workspace the caller does not see, 403 where they are a plain member.
async fn require_manager(
    tx: &Transaction<'_>,
    workspace_id: &str,
) -> Result<Result<(), Refusal>, DbError> {
    Ok(match standing(tx, workspace_id).await? {
        None => Err(WORKSPACE_NOT_FOUND),
        Some(false) => Err(forbidden()),
        Some(true) => Ok(()),
    })
}

const INVITATION_JSON: &str = "\
select json_build_object('id', i.id, 'workspace_id', i.workspace_id, 'email', i.email,
         'role', i.role, 'invited_by', i.invited_by, 'created_at', i.created_at,
         'expires_at', i.expires_at)
  from public.invitations i";

/// Invites `email` into the workspace with `role` (`member` or `admin`).
pub async fn create(
    tx: &Transaction<'_>,
    workspace_id: &str,
    email: &str,
    role: &str,
) -> Result<Result<NewInvitation, Refusal>, DbError> {
    if let Err(refusal) = require_manager(tx, workspace_id).await? {
        return Ok(Err(refusal));
    }
    // 244 random bits from Postgres' strong random source (two v4 uuids, hex only).
    let row = tx
        .query_typed_one(
            "select gen_random_uuid()::text,
                    replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
                    w.name,
                    (select p.display_name from public.profiles p where p.id = (select auth.uid()))
               from public.workspaces w where w.id = $1::uuid",
            &crate::rows::text_params(&[workspace_id]),
        )
        .await?;
    let (id, token): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    changed(
        tx,
        "insert into public.invitations (id, workspace_id, email, role, token_hash)
         values ($1::uuid, $2::uuid, lower($3), $4, sha256(convert_to($5, 'UTF8')))",
        &[&id, workspace_id, email, role, &token],
    )
    .await?;
    let invitation = tx
        .query_typed_one(
            &format!(
                "select ({INVITATION_JSON} where i.id = $1::uuid)::text,
                        (select i.email from public.invitations i where i.id = $1::uuid),
                        (select i.expires_at::text from public.invitations i where i.id = $1::uuid)"
            ),
            &crate::rows::text_params(&[&id]),
        )
        .await?;
    Ok(Ok(NewInvitation {
        id,
        workspace_id: workspace_id.to_owned(),
        workspace_name: row.try_get(2)?,
        inviter_name: row.try_get(3)?,
        email: invitation.try_get(1)?,
        role: role.to_owned(),
        expires_at: invitation.try_get(2)?,
        token,
        json: invitation.try_get(0)?,
    }))
}

/// The workspace's invitations not yet accepted and not expired, newest first.
pub async fn list_pending(
    tx: &Transaction<'_>,
    workspace_id: &str,
) -> Result<Result<String, Refusal>, DbError> {
    if let Err(refusal) = require_manager(tx, workspace_id).await? {
        return Ok(Err(refusal));
    }
    let sql = format!(
        "select coalesce(json_agg(l.j), '[]')::text
           from ({INVITATION_JSON}
                 where i.workspace_id = $1::uuid and i.accepted_at is null and i.expires_at > now()
                 order by i.created_at desc, i.id limit {LIST_LIMIT}) l(j)"
    );
    Ok(Ok(optional_text(tx, &sql, &[workspace_id])
        .await?
        .unwrap_or_else(|| "[]".into())))
}

/// Withdraws (deletes) an invitation of the workspace.
pub async fn withdraw(
    tx: &Transaction<'_>,
    workspace_id: &str,
    id: &str,
) -> Result<Result<(), Refusal>, DbError> {
    if let Err(refusal) = require_manager(tx, workspace_id).await? {
        return Ok(Err(refusal));
    }
    let n = changed(
        tx,
        "delete from public.invitations where id = $1::uuid and workspace_id = $2::uuid",
        &[id, workspace_id],
    )
    .await?;
    Ok(if n == 0 {
        Err(INVITATION_NOT_FOUND)
    } else {
        Ok(())
    })
}

/// Accepts the invitation `token` opens, for the caller (their token's e-mail must be the
/// invitation's; it is used once). Answers the workspace joined and the role.
pub async fn accept(tx: &Transaction<'_>, token: &str) -> Result<Result<String, Refusal>, DbError> {
    // The token reaches SQL as PostgREST would carry it: in request.headers, for this transaction.
    tx.query_typed(
        "select set_config('request.headers',
                  (coalesce(nullif(current_setting('request.headers', true), '')::jsonb, '{}'::jsonb)
                   || jsonb_build_object('x-invitation-token', $1::text))::text, true)",
        &crate::rows::text_params(&[token]),
    )
    .await?;
    let Some(row) = tx
        .query_typed_opt(
            "select json_build_object('workspace_id', i.workspace_id, 'role', i.role)::text,
                    exists (select 1 from public.memberships m
                             where m.workspace_id = i.workspace_id and m.user_id = (select auth.uid()))
               from private.invitations_for_caller() i limit 1",
            &[],
        )
        .await?
    else {
        return Ok(Err(INVITATION_NOT_FOUND));
    };
    let (joined, already_member): (String, bool) = (row.try_get(0)?, row.try_get(1)?);
    if already_member {
        return Ok(Err(Refusal::new(
            409,
            "already_member",
            "you are already a member of this workspace",
        )));
    }
    // No ON CONFLICT: with it Postgres also holds the new row to memberships' SELECT policy
    // (checked), which a member-to-be cannot pass yet.
    changed(
        tx,
        "insert into public.memberships (workspace_id, user_id, role)
         select i.workspace_id, (select auth.uid()), i.role
           from private.invitations_for_caller() i limit 1",
        &[],
    )
    .await?;
    Ok(Ok(joined))
}
