//! `GET /functions/v1/billing?workspace=<uuid>`: the workspace's billing state
//! (`billing_accounts`), for its owners and admins. RLS admits only them
//! (`sql/migrations/0013_billing.sql`); a plain member is told 403, anyone else 404.

use edge_adapter::{Access, ApiError, Call, Reply};
use edge_guard::{TenantUser, UserRequirement};
use rls_db::managed;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/billing" => tenant_user(UserRequirement::SIGNED_IN) => billing_state,
    }
}

async fn billing_state(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadOnly, 200, |tx, user| {
        Box::pin(managed::billing_state(tx, user.workspace_id()))
    })
    .await
}
