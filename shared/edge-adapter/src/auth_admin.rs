//! Supabase Auth's admin API, for what only the platform may do to a user: removing the auth user
//! of a deleted account (`DELETE /auth/v1/admin/users/{id}` with the service role key as `apikey`
//! and Bearer token, as supabase-js's `auth.admin.deleteUser` sends it). The base URL is
//! SUPABASE_AUTH_ADMIN_URL, else SUPABASE_URL; locally a contract stand-in
//! (ci/auth-admin-standin.mjs).

use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

use crate::config::{optional_text, required_secret};
use crate::ApiError;

const WHAT: &str = "Supabase Auth's admin API";

/// Deletes the auth user `user_id` for good (`should_soft_delete: false`). A user Auth does not
/// know (404) is gone already, so a retried run goes on; anything else but 200 is an error.
pub async fn delete_auth_user(env: &Env, user_id: &str) -> Result<(), ApiError> {
    let base = optional_text(env, "SUPABASE_AUTH_ADMIN_URL")
        .or_else(|| optional_text(env, "SUPABASE_URL"))
        .ok_or(ApiError::NotConfigured(
            "SUPABASE_AUTH_ADMIN_URL or SUPABASE_URL",
        ))?;
    let key = required_secret(env, "SUPABASE_SERVICE_ROLE_KEY")?;
    let failed = |_| ApiError::Upstream(WHAT);
    let headers = Headers::new();
    headers.set("apikey", &key).map_err(failed)?;
    headers
        .set("authorization", &format!("Bearer {key}"))
        .map_err(failed)?;
    headers
        .set("content-type", "application/json")
        .map_err(failed)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Delete)
        .with_headers(headers)
        .with_body(Some(r#"{"should_soft_delete":false}"#.into()));
    let url = format!(
        "{}/auth/v1/admin/users/{user_id}",
        base.trim_end_matches('/')
    );
    let request = Request::new_with_init(&url, &init).map_err(failed)?;
    let response = Fetch::Request(request).send().await.map_err(failed)?;
    match response.status_code() {
        200 | 404 => Ok(()),
        _ => Err(ApiError::Upstream(WHAT)),
    }
}
