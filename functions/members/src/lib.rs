//! `/functions/v1/members?workspace=<uuid>`: a workspace's members. List (any member), change a
//! member's role (`PATCH …&id=<user uuid>`) and remove a member or leave (`DELETE …&id=`).
//! The owner/admin rules are the policies' (sql/migrations/0004); removing someone also withdraws
//! their invitations and revokes their share links (0019).

use edge_adapter::{json_body, required_query_uuid, Access, ApiError, Call, Reply};
use edge_guard::{TenantUser, UserRequirement};
use rls_db::members;
use serde::Deserialize;
use serde_json::json;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/members" => tenant_user(UserRequirement::SIGNED_IN) => list,
        PATCH "/functions/v1/members" => tenant_user(UserRequirement::SIGNED_IN) => change_role,
        DELETE "/functions/v1/members" => tenant_user(UserRequirement::SIGNED_IN) => remove,
    }
}

const MAX_BODY_BYTES: usize = 256;

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: Role,
}

async fn list(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let body = call
        .in_transaction(Access::ReadOnly, |tx, caller| {
            Box::pin(members::list(tx, caller.workspace_id()))
        })
        .await??;
    Ok(Reply::json_text(body))
}

async fn change_role(mut call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let user_id = required_query_uuid(&call.req, "id")?;
    let input: RoleChange = json_body(&mut call.req, MAX_BODY_BYTES).await?;
    let body = call
        .in_transaction(Access::ReadWrite, move |tx, caller| {
            Box::pin(async move {
                members::change_role(tx, caller.workspace_id(), &user_id, input.role.as_str()).await
            })
        })
        .await??;
    Ok(Reply::json_text(body))
}

async fn remove(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let user_id = required_query_uuid(&call.req, "id")?;
    let removed = user_id.clone();
    call.in_transaction(Access::ReadWrite, move |tx, caller| {
        Box::pin(async move { members::remove(tx, caller.workspace_id(), &user_id).await })
    })
    .await??;
    Ok(Reply::json(200, json!({ "removed": removed })))
}
