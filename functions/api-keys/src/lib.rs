//! API keys of a workspace (`sql/migrations/0014_api_keys.sql`, `0041_api_key_callers.sql`), for
//! its owners and admins with a second factor (aal2; the table's RESTRICTIVE policy repeats it):
//!
//! - `POST /functions/v1/api-keys?workspace=<uuid>`: mints a key ([`NewApiKey`]); 201 with the
//!   key `rlse_…`, shown this once (only its prefix and sha256 are stored).
//! - `GET /functions/v1/api-keys?workspace=<uuid>`: the keys (prefix, name, scopes, times).
//! - `POST /functions/v1/api-keys/revoke?id=<uuid>`: revokes a key for good.

use api_input::{Number, Text};
use edge_adapter::{json_body, required_query_uuid, Access, ApiError, Call, Reply};
use edge_guard::{TenantUser, User, UserRequirement};
use rls_db::api_keys;
use serde::Deserialize;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/api-keys" => tenant_user(UserRequirement::SIGNED_IN.with_aal2()) => list_keys,
        POST "/functions/v1/api-keys" => tenant_user(UserRequirement::SIGNED_IN.with_aal2()) => create_key,
        POST "/functions/v1/api-keys/revoke" => user(UserRequirement::SIGNED_IN.with_aal2()) => revoke_key,
    }
}

/// A name, three scopes and a number: anything near this is not a key request.
const KEY_BODY_MAX_BYTES: usize = 1024;
/// Longest life a key may be given (about ten years); none means it never expires.
const MAX_EXPIRY_DAYS: i64 = 3650;

/// What a key may do (the table's check constraint lists the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Scope {
    #[serde(rename = "notes:read")]
    NotesRead,
    #[serde(rename = "notes:write")]
    NotesWrite,
    #[serde(rename = "webhooks:read")]
    WebhooksRead,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::NotesRead => "notes:read",
            Scope::NotesWrite => "notes:write",
            Scope::WebhooksRead => "webhooks:read",
        }
    }
}

/// `POST /functions/v1/api-keys`: `{"name": 1–100 chars, "scopes": [scope, …],
/// "expires_in_days"?: 1–3650}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApiKey {
    name: Text<1, 100>,
    scopes: Vec<Scope>,
    expires_in_days: Option<Number<1, MAX_EXPIRY_DAYS>>,
}

async fn create_key(mut call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let key: NewApiKey = json_body(&mut call.req, KEY_BODY_MAX_BYTES).await?;
    let mut scopes: Vec<&'static str> = key.scopes.iter().map(|s| s.as_str()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    // In 1..=3650 by its type.
    let days = key.expires_in_days.map(|days| days.get() as i32);
    call.answer_from_db(Access::ReadWrite, 201, move |tx, user| {
        Box::pin(async move {
            api_keys::create(tx, user.workspace_id(), key.name.as_str(), &scopes, days).await
        })
    })
    .await
}

async fn list_keys(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadOnly, 200, |tx, user| {
        Box::pin(api_keys::list(tx, user.workspace_id()))
    })
    .await
}

async fn revoke_key(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    call.answer_from_db(Access::ReadWrite, 200, move |tx, _user| {
        Box::pin(async move { api_keys::revoke(tx, &id).await })
    })
    .await
}
