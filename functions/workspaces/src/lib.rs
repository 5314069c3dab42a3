//! `/functions/v1/workspaces`: the signed-in user's workspaces. List (deleted ones they own
//! included), create (the database picks the id; the creator becomes owner), rename (`?id=`),
//! delete (`?id=`, soft: owners with aal2 and a recent sign-in) and restore within the grace
//! period (`/restore?id=`). Who may do what is decided in SQL (sql/migrations/0004, 0017).

use api_input::Text;
use edge_adapter::{json_body, required_query_uuid, Access, ApiError, Call, Reply};
use edge_guard::{User, UserRequirement};
use rls_db::workspaces;
use serde::Deserialize;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/workspaces" => user(UserRequirement::SIGNED_IN) => list,
        POST "/functions/v1/workspaces" => user(UserRequirement::SIGNED_IN) => create,
        PATCH "/functions/v1/workspaces" => user(UserRequirement::SIGNED_IN) => rename,
        DELETE "/functions/v1/workspaces" => user(
            UserRequirement::SIGNED_IN.with_aal2().with_recent_sign_in(DELETION_SIGN_IN_MAX_AGE_SECS)
        ) => delete,
        POST "/functions/v1/workspaces/restore" => user(
            UserRequirement::SIGNED_IN.with_aal2().with_recent_sign_in(DELETION_SIGN_IN_MAX_AGE_SECS)
        ) => restore,
    }
}

/// Deleting or restoring a tenant is the most destructive thing a user does: a second factor and
/// a sign-in within the last 15 minutes.
const DELETION_SIGN_IN_MAX_AGE_SECS: u64 = 15 * 60;
const MAX_BODY_BYTES: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Named {
    name: Text<1, 200>,
}

async fn list(call: Call<User>) -> Result<Reply, ApiError> {
    let body = call
        .in_transaction(Access::ReadOnly, |tx, _| {
            Box::pin(workspaces::list_mine(tx))
        })
        .await?;
    Ok(Reply::json_text(body))
}

async fn create(mut call: Call<User>) -> Result<Reply, ApiError> {
    let input: Named = json_body(&mut call.req, MAX_BODY_BYTES).await?;
    let body = call
        .in_transaction(Access::ReadWrite, move |tx, _| {
            Box::pin(async move { workspaces::create(tx, input.name.as_str()).await })
        })
        .await?;
    Ok(Reply::Json { status: 201, body })
}

async fn rename(mut call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    let input: Named = json_body(&mut call.req, MAX_BODY_BYTES).await?;
    let body = call
        .in_transaction(Access::ReadWrite, move |tx, _| {
            Box::pin(async move { workspaces::rename(tx, &id, input.name.as_str()).await })
        })
        .await??;
    Ok(Reply::json_text(body))
}

async fn delete(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    let body = call
        .in_transaction(Access::ReadWrite, move |tx, _| {
            Box::pin(async move { workspaces::delete(tx, &id).await })
        })
        .await??;
    Ok(Reply::json_text(body))
}

async fn restore(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    let body = call
        .in_transaction(Access::ReadWrite, move |tx, _| {
            Box::pin(async move { workspaces::restore(tx, &id).await })
        })
        .await??;
    Ok(Reply::json_text(body))
}
