//! `GET /functions/v1/audit-log?workspace=<uuid>[&before=<id>][&limit=1..100]`: one page of the
//! workspace's audit log, newest first, for its owners and admins:
//! `{"entries": [...], "next_before": <id> | null}` (keyset pagination: pass `next_before` as
//! `before`). RLS admits only managers (`sql/migrations/0008_audit_log.sql`); a plain member is
//! told 403, anyone else 404.

use edge_adapter::{query_integer, Access, ApiError, Call, Reply};
use edge_guard::{TenantUser, UserRequirement};
use rls_db::managed::{self, AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX};

edge_adapter::serve! {
    routes {
        GET "/functions/v1/audit-log" => tenant_user(UserRequirement::SIGNED_IN) => audit_page,
    }
}

async fn audit_page(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let before = query_integer(&call.req, "before", 1, i64::MAX)?;
    let limit = query_integer(&call.req, "limit", 1, AUDIT_PAGE_MAX)?.unwrap_or(AUDIT_PAGE_DEFAULT);
    call.answer_from_db(Access::ReadOnly, 200, move |tx, user| {
        Box::pin(managed::audit_page(tx, user.workspace_id(), before, limit))
    })
    .await
}
