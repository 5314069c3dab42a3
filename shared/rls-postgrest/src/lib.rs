//! The data path over PostgREST, for teams that reach their Supabase data through the hosted Data
//! API (`https://<ref>.supabase.co/rest/v1`) instead of the Postgres wire.
//!
//! Same operations and the same semantics as the wire path in `rls-db` (both implement
//! [`rls_db::DataPath`]): a user's reads carry the user's own verified token, so PostgREST
//! switches to `authenticated` with those claims and the same RLS policies decide; the platform's
//! own writes are RPC calls to the SECURITY DEFINER functions the schema grants to
//! `service_role` only, made with the service key. Errors map to the same [`DbError`] variants.
//!
//! Request contract (PostgREST docs, v12):
//! - tables: `GET /rest/v1/<table>?select=<cols>&order=<col>.desc&<col>=eq.<value>`
//!   (<https://docs.postgrest.org/en/v12/references/api/tables_views.html>, horizontal and
//!   vertical filtering, ordering); page size by `Range-Unit: items` + `Range: 0-99`
//!   (<https://docs.postgrest.org/en/v12/references/api/pagination.html>);
//! - functions: `POST /rest/v1/rpc/<name>` with a JSON object whose keys are the argument names;
//!   a scalar result comes back as a bare JSON value
//!   (<https://docs.postgrest.org/en/v12/references/api/functions.html>);
//! - schema: `Accept-Profile` on GET, `Content-Profile` on POST
//!   (<https://docs.postgrest.org/en/v12/references/api/schemas.html>);
//! - identity: `Authorization: Bearer <JWT>`, the role taken from its `role` claim
//!   (<https://docs.postgrest.org/en/v12/references/auth.html>); Supabase's gateway also wants
//!   the project key in `apikey` (<https://supabase.com/docs/guides/api/api-keys>);
//! - errors: `{code, message, details, hint}` with the status from the docs' table
//!   (<https://docs.postgrest.org/en/v12/references/errors.html>), see [`error_from_response`].
//!
//! Tested against that documented contract with a local HTTP server, not a live PostgREST: no
//! PostgREST binary can run on the project's machines.

use edge_guard::{is_uuid, CronCaller, CronTrigger, User, VerifiedWebhook};
use postgrest::Postgrest;
use rls_db::notes::PAGE_SIZE;
use rls_db::webhook_events::Stored;
use rls_db::{is_sql_state, Cause, DataPath, DbError, RequestInfo, RestFailure};
use serde::Deserialize;
use serde_json::{json, Value};

/// The only schema this project exposes; named on every request rather than relying on it being
/// first in the project's `db-schemas`.
const SCHEMA: &str = "public";
/// The columns a note is returned with, as the wire path's `list_visible` returns them.
const NOTE_COLUMNS: &str = "id,workspace_id,author_id,body,created_at";
/// Newest first, ties broken by id: the wire path's order.
const NOTE_ORDER: &str = "created_at.desc,id.asc";
/// The schema's service-role functions (SECURITY DEFINER, EXECUTE for service_role only).
const RECORD_WEBHOOK_EVENT: &str = "record_webhook_event";
const PURGE_PROCESSED_WEBHOOK_EVENTS: &str = "purge_processed_webhook_events";

/// Where the Data API is and the project's keys.
#[derive(Clone)]
pub struct PostgrestConfig {
    /// The project URL, e.g. `https://<ref>.supabase.co` (the API is under `/rest/v1`).
    pub project_url: String,
    /// The project's anon (publishable) key: the `apikey` of a signed-in user's calls.
    pub anon_key: String,
    /// The service-role key: `apikey` and bearer of the platform's own calls. Never sent along
    /// with a user's request.
    pub service_key: String,
}

/// A configuration that cannot make a valid request; reported at start-up, never a panic.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub &'static str);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgREST configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The PostgREST data path. Cheap to clone (the HTTP clients are shared handles).
#[derive(Clone)]
pub struct PostgrestPath {
    /// Sends the anon key as `apikey`; each call adds the user's own bearer token.
    as_user: Postgrest,
    /// Sends the service key as `apikey`; each call adds it as the bearer too.
    as_service: Postgrest,
    service_key: String,
}

impl PostgrestPath {
    pub fn new(config: &PostgrestConfig) -> Result<Self, ConfigError> {
        let base = config.project_url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ConfigError("the project URL must be http(s)://…"));
        }
        // `Postgrest::insert_header` panics on a value that is not a valid header: check first.
        for (key, refusal) in [
            (
                &config.anon_key,
                "the anon key is empty or not a printable token",
            ),
            (
                &config.service_key,
                "the service key is empty or not a printable token",
            ),
        ] {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError(refusal));
            }
        }
        let api = format!("{base}/rest/v1");
        Ok(Self {
            as_user: Postgrest::new(api.clone())
                .schema(SCHEMA)
                .insert_header("apikey", &config.anon_key),
            as_service: Postgrest::new(api)
                .schema(SCHEMA)
                .insert_header("apikey", &config.service_key),
            service_key: config.service_key.clone(),
        })
    }

    /// `POST /rest/v1/rpc/<function>` as the service role; the body's keys are the arguments.
    async fn call_as_service(&self, function: &str, arguments: Value) -> Result<Value, DbError> {
        let response = self
            .as_service
            .rpc(function, arguments.to_string())
            .auth(&self.service_key)
            .execute()
            .await;
        json_body(response).await
    }
}

impl DataPath for PostgrestPath {
    /// PostgREST sets `request.*` from its own request, so `_request` has nothing to add.
    async fn list_visible_notes(
        &mut self,
        user: &User,
        workspace_id: Option<&str>,
        _request: &RequestInfo,
    ) -> Result<String, DbError> {
        let mut query = self
            .as_user
            .from("notes")
            .auth(user.access_token())
            .select(NOTE_COLUMNS)
            .order(NOTE_ORDER)
            .limit(PAGE_SIZE as usize);
        if let Some(workspace_id) = workspace_id {
            // The wire path's `$1::uuid` refuses anything else with 22P02; refuse it the same way
            // before it can reach the filter grammar.
            if !is_uuid(workspace_id) {
                return Err(DbError::InvalidInput(Cause::Rest(RestFailure {
                    status: None,
                    code: Some("22P02".into()),
                    message: "the workspace id is not a uuid".into(),
                })));
            }
            query = query.eq("workspace_id", workspace_id);
        }
        match json_body(query.execute().await).await? {
            notes @ Value::Array(_) => Ok(notes.to_string()),
            _ => Err(DbError::UnexpectedResult("notes: not a JSON array")),
        }
    }

    async fn store_webhook_once(
        &mut self,
        event: &VerifiedWebhook,
        _request: &RequestInfo,
    ) -> Result<Stored, DbError> {
        let mut arguments = json!({
            "p_provider": event.provider().as_str(),
            "p_event_id": event.event_id(),
            "p_event_type": event.event_type(),
            "p_occurred_at": event.occurred_at(),
            // jsonb refuses U+0000; the exact bytes go in p_raw_body.
            "p_payload": rls_db::webhook_events::jsonb_safe(event.payload()),
            "p_raw_body": event.raw_body(),
        });
        // Only a signed resource id (Mercado Pago's data.id) is sent; otherwise the default.
        if let Some(resource_id) = event.resource_id() {
            arguments["p_resource_id"] = resource_id.into();
        }
        // The function answers true when it stored the event, false for a retry of one it has.
        match self
            .call_as_service(RECORD_WEBHOOK_EVENT, arguments)
            .await?
        {
            Value::Bool(true) => Ok(Stored::New),
            Value::Bool(false) => Ok(Stored::AlreadyStored),
            _ => Err(DbError::UnexpectedResult(
                "record_webhook_event: not a boolean",
            )),
        }
    }

    async fn purge_processed_webhook_events(
        &mut self,
        caller: &CronCaller,
        retention_days: i32,
        _request: &RequestInfo,
    ) -> Result<i64, DbError> {
        let trigger = match caller.trigger() {
            CronTrigger::Schedule { .. } => "schedule",
            CronTrigger::Http => "http",
        };
        let arguments = json!({
            "p_retention": format!("{retention_days} days"),
            "p_trigger": trigger,
        });
        self.call_as_service(PURGE_PROCESSED_WEBHOOK_EVENTS, arguments)
            .await?
            .as_i64()
            .ok_or(DbError::UnexpectedResult(
                "purge_processed_webhook_events: not an integer",
            ))
    }
}

/// A successful response's JSON body, or the failure classified.
async fn json_body(response: Result<reqwest::Response, reqwest::Error>) -> Result<Value, DbError> {
    let response = response.map_err(transport_failure)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(transport_failure)?;
    if !(200..300).contains(&status) {
        return Err(error_from_response(status, &body));
    }
    serde_json::from_str(&body).map_err(|_| DbError::UnexpectedResult("a body that is not JSON"))
}

/// No answer at all (refused, reset, timed out): the API is unavailable, as a broken connection
/// is on the wire. The URL is left out of the message.
fn transport_failure(error: reqwest::Error) -> DbError {
    DbError::Unavailable(Cause::Rest(RestFailure {
        status: None,
        code: None,
        message: error.without_url().to_string(),
    }))
}

/// PostgREST's error body (<https://docs.postgrest.org/en/v12/references/errors.html>).
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
}

/// Classifies an error response:
/// - a SQLSTATE in `code` (forwarded from Postgres) goes through the same rule as the wire path,
///   so 42501 is `PermissionDenied` whether PostgREST answered 401 (anon) or 403;
/// - PostgREST's own `PGRSTgxx` codes, and bodies that are not PostgREST's (a gateway in front),
///   by the status the docs give them: 401/403 (JWT group PGRST3xx) `PermissionDenied`,
///   502/503/504 (connection group PGRST0xx, or the gateway) and 429 `Unavailable`,
///   anything else (request or schema-cache errors: our defect) `Other`.
pub fn error_from_response(status: u16, body: &str) -> DbError {
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    let code = parsed.as_ref().and_then(|b| b.code.clone());
    let message = parsed
        .and_then(|b| b.message)
        .unwrap_or_else(|| "no PostgREST error body".into());
    let sql_state = code.clone().filter(|c| is_sql_state(c));
    let cause = Cause::Rest(RestFailure {
        status: Some(status),
        code,
        message,
    });
    if let Some(state) = sql_state {
        return DbError::from_sql_state(&state, cause);
    }
    match status {
        401 | 403 => DbError::PermissionDenied(cause),
        429 | 502 | 503 | 504 => DbError::Unavailable(cause),
        _ => DbError::Other(cause),
    }
}
