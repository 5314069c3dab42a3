//! Principals: proof that a guard check passed. Fields are private and there are no public
//! constructors except where the platform itself is the proof (a scheduled event), so code
//! outside this crate cannot fabricate a caller.

use serde_json::{json, Value};

/// The Postgres role a request runs as, as PostgREST would choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbRole {
    Anon,
    Authenticated,
    ServiceRole,
}

impl DbRole {
    pub fn as_str(self) -> &'static str {
        match self {
            DbRole::Anon => "anon",
            DbRole::Authenticated => "authenticated",
            DbRole::ServiceRole => "service_role",
        }
    }

    pub(crate) fn from_claim(role: &str) -> Option<Self> {
        match role {
            "anon" => Some(DbRole::Anon),
            "authenticated" => Some(DbRole::Authenticated),
            "service_role" => Some(DbRole::ServiceRole),
            _ => None,
        }
    }
}

/// A signed-in Supabase user, from a verified access token.
#[derive(Debug, Clone)]
pub struct User {
    id: String,
    claims: Value,
    access_token: AccessToken,
}

/// The exact token the user was verified from. Its `Debug` never shows it, so logging a
/// principal cannot leak a credential.
#[derive(Clone)]
struct AccessToken(String);

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(withheld)")
    }
}

impl User {
    pub(crate) fn from_verified_claims(id: String, claims: Value, access_token: &str) -> Self {
        Self {
            id,
            claims,
            access_token: AccessToken(access_token.to_owned()),
        }
    }

    /// The verified token itself, for a data API that checks it again and applies RLS from it
    /// (PostgREST: `Authorization: Bearer <token>`). Never log it.
    pub fn access_token(&self) -> &str {
        &self.access_token.0
    }

    /// The user's uuid (`sub`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Authentication assurance level: `aal1`, or `aal2` once a second factor was verified.
    pub fn aal(&self) -> &str {
        self.claims
            .get("aal")
            .and_then(Value::as_str)
            .unwrap_or("aal1")
    }
}

/// Where a verified webhook came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookProvider {
    Paddle,
    Meta,
    MercadoPago,
    StandardWebhooks,
}

impl WebhookProvider {
    /// The name stored in `webhook_events.provider` (its check constraint must list it).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookProvider::Paddle => "paddle",
            WebhookProvider::Meta => "meta",
            WebhookProvider::MercadoPago => "mercadopago",
            WebhookProvider::StandardWebhooks => "standard_webhooks",
        }
    }
}

/// A provider delivery whose signature matched, with the fields needed to store it once.
#[derive(Debug, Clone)]
pub struct VerifiedWebhook {
    provider: WebhookProvider,
    event_id: String,
    event_type: String,
    occurred_at: Option<String>,
    payload: Value,
    raw_body: String,
}

impl VerifiedWebhook {
    pub(crate) fn new(
        provider: WebhookProvider,
        event_id: String,
        event_type: String,
        occurred_at: Option<String>,
        payload: Value,
        raw_body: String,
    ) -> Self {
        Self {
            provider,
            event_id,
            event_type,
            occurred_at,
            payload,
            raw_body,
        }
    }

    pub fn provider(&self) -> WebhookProvider {
        self.provider
    }
    /// The provider's own id for the event: the same on every retry, so it is the dedupe key.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }
    pub fn event_type(&self) -> &str {
        &self.event_type
    }
    /// RFC 3339 time the provider says the event happened, if it says.
    pub fn occurred_at(&self) -> Option<&str> {
        self.occurred_at.as_deref()
    }
    pub fn payload(&self) -> &Value {
        &self.payload
    }
    /// The exact bytes that were signed (valid UTF-8, checked).
    pub fn raw_body(&self) -> &str {
        &self.raw_body
    }
}

/// How a cron job was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CronTrigger {
    /// The platform's scheduler fired a `[triggers] crons` entry.
    Schedule { cron: String },
    /// An HTTP caller presented the cron secret.
    Http,
}

/// The scheduler, or a caller that proved it holds the cron secret.
#[derive(Debug, Clone)]
pub struct CronCaller {
    trigger: CronTrigger,
}

impl CronCaller {
    /// Only for a function's scheduled-event handler: the platform delivers scheduled events
    /// itself, no request can reach that handler, so the event is the proof.
    pub fn from_platform_schedule(cron: &str) -> Self {
        Self {
            trigger: CronTrigger::Schedule {
                cron: cron.to_owned(),
            },
        }
    }

    pub(crate) fn from_http_secret() -> Self {
        Self {
            trigger: CronTrigger::Http,
        }
    }

    pub fn trigger(&self) -> &CronTrigger {
        &self.trigger
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A principal the data path can run a transaction as. Sealed: only this crate's principals
/// implement it, so a database identity can only come out of a passed check.
pub trait DbPrincipal: sealed::Sealed {
    fn db_role(&self) -> DbRole;
    /// The JSON PostgREST would put in `request.jwt.claims` for this caller.
    fn jwt_claims(&self) -> Value;
}

impl sealed::Sealed for User {}
impl DbPrincipal for User {
    fn db_role(&self) -> DbRole {
        DbRole::Authenticated
    }
    fn jwt_claims(&self) -> Value {
        self.claims.clone()
    }
}

// Webhooks and cron run without a user: as the service role, like a PostgREST call made with
// the service key.
impl sealed::Sealed for VerifiedWebhook {}
impl DbPrincipal for VerifiedWebhook {
    fn db_role(&self) -> DbRole {
        DbRole::ServiceRole
    }
    fn jwt_claims(&self) -> Value {
        json!({ "role": "service_role" })
    }
}

impl sealed::Sealed for CronCaller {}
impl DbPrincipal for CronCaller {
    fn db_role(&self) -> DbRole {
        DbRole::ServiceRole
    }
    fn jwt_claims(&self) -> Value {
        json!({ "role": "service_role" })
    }
}
