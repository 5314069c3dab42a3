//! Principals: proof that a guard check passed. Fields are private and every constructor is
//! `pub(crate)`, except where no secret is involved and the input itself is the proof (a declared
//! public route with its reason, a declared schedule fired by the platform): code outside this
//! crate cannot fabricate a caller (tests/compile_fail shows it).

use serde_json::{json, Value};

use crate::Refusal;

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

/// Authentication assurance level (`aal` claim; absent means `aal1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aal {
    Aal1,
    /// A second factor was verified in this session.
    Aal2,
}

impl Aal {
    pub fn as_str(self) -> &'static str {
        match self {
            Aal::Aal1 => "aal1",
            Aal::Aal2 => "aal2",
        }
    }
}

/// The caller behind a verified Supabase token: a signed-in user (role `authenticated`), or an
/// `anon`/`service_role` key where the route accepts those roles. Its `Debug` masks the claims
/// (e-mail, phone) and never shows the token.
#[derive(Clone)]
pub struct User {
    id: Option<String>,
    role: DbRole,
    aal: Aal,
    session_id: Option<String>,
    signed_in_at: Option<u64>,
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

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("aal", &self.aal)
            .field("session_id", &self.session_id)
            .field("signed_in_at", &self.signed_in_at)
            .field(
                "claims",
                &log_mask::mask_pii_and_credentials(&self.claims.to_string()),
            )
            .field("access_token", &self.access_token)
            .finish()
    }
}

impl User {
    pub(crate) fn from_verified_claims(
        id: Option<String>,
        role: DbRole,
        aal: Aal,
        session_id: Option<String>,
        signed_in_at: Option<u64>,
        claims: Value,
        access_token: &str,
    ) -> Self {
        Self {
            id,
            role,
            aal,
            session_id,
            signed_in_at,
            claims,
            access_token: AccessToken(access_token.to_owned()),
        }
    }

    /// The verified token itself, for a data API that checks it again and applies RLS from it
    /// (PostgREST: `Authorization: Bearer <token>`). Never log it.
    pub fn access_token(&self) -> &str {
        &self.access_token.0
    }

    /// The user's uuid (`sub`); `None` for an anon or service key.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    pub fn role(&self) -> DbRole {
        self.role
    }
    pub fn aal(&self) -> Aal {
        self.aal
    }
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }
    /// Unix time of the newest authentication in this session (newest `amr` timestamp).
    pub fn signed_in_at(&self) -> Option<u64> {
        self.signed_in_at
    }
    /// The verified claims, as they go into `request.jwt.claims`.
    pub fn claims(&self) -> &Value {
        &self.claims
    }
}

/// A verified user acting for one workspace: the workspace the request names, or else the one in
/// the token's `app_metadata.workspace_id` (never `user_metadata`, which the user can write).
/// Whether the user is a member is still decided by RLS on every row.
#[derive(Debug, Clone)]
pub struct TenantUser {
    user: User,
    workspace_id: String,
}

impl TenantUser {
    pub(crate) fn new(user: User, requested_workspace: Option<&str>) -> Result<Self, Refusal> {
        let workspace_id = match requested_workspace {
            Some(requested) if crate::is_uuid(requested) => requested.to_owned(),
            Some(_) => {
                return Err(Refusal::bad_request(
                    "invalid_workspace",
                    "the workspace id must be a uuid",
                ))
            }
            None => user
                .claims
                .pointer("/app_metadata/workspace_id")
                .and_then(Value::as_str)
                .filter(|id| crate::is_uuid(id))
                .ok_or(Refusal::bad_request(
                    "workspace_required",
                    "name the workspace this request acts for",
                ))?
                .to_owned(),
        };
        Ok(Self { user, workspace_id })
    }

    pub fn user(&self) -> &User {
        &self.user
    }
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
}

/// A server-to-server caller that presented a well-formed API key (`X-Api-Key`) on a route that
/// needs `required_scope`. Whether the key is live, of a live workspace and grants the scope is
/// decided in Postgres, in the request's own transaction, before any of the handler's statements
/// run ([`DbCheck::ApiKey`]): the table is the truth, so revocation and expiry act at once.
/// Its `Debug` never shows the key's hash.
#[derive(Clone)]
pub struct ApiKeyClient {
    key_prefix: String,
    key_sha256: [u8; 32],
    required_scope: &'static str,
    /// Set once the database admitted the key; shared by clones, so the route that made the
    /// caller can tell whether its handler ever had the key proven.
    admitted: std::rc::Rc<std::cell::Cell<bool>>,
}

impl std::fmt::Debug for ApiKeyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyClient")
            .field("key_prefix", &self.key_prefix)
            .field("required_scope", &self.required_scope)
            .finish_non_exhaustive()
    }
}

impl ApiKeyClient {
    pub(crate) fn new(
        key_prefix: String,
        key_sha256: [u8; 32],
        required_scope: &'static str,
    ) -> Self {
        Self {
            key_prefix,
            key_sha256,
            required_scope,
            admitted: std::rc::Rc::default(),
        }
    }
    /// Whether the database has admitted this key (in any transaction of this request).
    pub fn admitted(&self) -> bool {
        self.admitted.get()
    }
    /// The key's public prefix: unique per key, so it names the key (the account a rate limit
    /// counts for a key caller). Not proof of the key: that is the database's check.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }
    /// SHA-256 of the presented key, as the table stores it.
    pub fn key_sha256(&self) -> &[u8; 32] {
        &self.key_sha256
    }
    /// The scope the route declared.
    pub fn required_scope(&self) -> &'static str {
        self.required_scope
    }
}

/// A route declared public, with the written reason why it needs no caller identity.
#[derive(Debug, Clone)]
pub struct PublicEndpoint {
    reason: &'static str,
}

impl PublicEndpoint {
    /// The only way in: a reason of at least a few words. `None` for a blank one.
    pub fn declared(reason: &'static str) -> Option<Self> {
        (reason.trim().len() >= MIN_PUBLIC_REASON_LEN).then_some(Self { reason })
    }
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// "because" alone is not a reason.
pub const MIN_PUBLIC_REASON_LEN: usize = 12;

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

/// A provider delivery whose signature matched, with the fields needed to store it once. Its
/// `Debug` withholds the body (deliveries carry customers' names, e-mails and phone numbers).
#[derive(Clone)]
pub struct VerifiedWebhook {
    provider: WebhookProvider,
    event_id: String,
    event_type: String,
    occurred_at: Option<String>,
    payload: Value,
    raw_body: String,
    resource_id: Option<String>,
}

impl std::fmt::Debug for VerifiedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedWebhook")
            .field("provider", &self.provider)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("occurred_at", &self.occurred_at)
            .field(
                "body",
                &format_args!("<{} bytes withheld>", self.raw_body.len()),
            )
            .finish()
    }
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
            resource_id: None,
        }
    }

    /// The provider's resource this event is about, when the signature covers its id.
    pub(crate) fn with_resource_id(mut self, resource_id: Option<String>) -> Self {
        self.resource_id = resource_id;
        self
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
    /// The id of the provider's resource the signature covers (Mercado Pago: `data.id` of the
    /// notification URL). Act on the resource fetched by this id, never on the body's claims.
    pub fn resource_id(&self) -> Option<&str> {
        self.resource_id.as_deref()
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
    /// For a function's scheduled-event entry point only: the platform delivers scheduled events
    /// itself and no request can reach that entry point, so the event is the proof. The fired
    /// expression must be one the function declared.
    pub fn from_declared_schedule(declared: &[&str], fired: &str) -> Result<Self, Refusal> {
        if declared.contains(&fired) {
            Ok(Self {
                trigger: CronTrigger::Schedule {
                    cron: fired.to_owned(),
                },
            })
        } else {
            Err(Refusal::forbidden(
                "undeclared_schedule",
                "this function declares no such schedule",
            ))
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

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A principal the data path can run a transaction as. Sealed: only this crate's principals
/// implement it, so a database identity can only come out of a passed check.
pub trait DbPrincipal: sealed::Sealed {
    fn db_role(&self) -> DbRole;
    /// The JSON PostgREST would put in `request.jwt.claims` for this caller.
    fn jwt_claims(&self) -> Value;
    /// What the database must still confirm, in the request's transaction and before the
    /// handler's statements, for this caller to hold.
    fn db_check(&self) -> Option<DbCheck<'_>> {
        None
    }
    /// Called by the data path once [`Self::db_check`] passed.
    fn db_check_passed(&self) {}
}

/// A check the data path runs right after the request's settings, in the same flight (no extra
/// round trip); a failed check aborts the transaction, so nothing the handler sent runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbCheck<'a> {
    /// The token's session must still exist in `auth.sessions` (signing out everywhere deletes
    /// it): `private.require_live_session`, else 401 `session_revoked`.
    LiveSession { session_id: &'a str },
    /// The key must be a live key of a live workspace granting `scope`; its row's claims replace
    /// the placeholder ones: `private.admit_api_key`, else 401 `invalid_api_key`,
    /// `revoked_api_key`, `expired_api_key` or 403 `insufficient_scope`.
    ApiKey {
        prefix: &'a str,
        key_sha256: &'a [u8; 32],
        scope: &'static str,
    },
}

impl DbCheck<'_> {
    /// Whether the check writes: admitting a key records its last use (at most once a minute),
    /// so a key caller's transaction is read-write even for a read.
    pub fn writes(&self) -> bool {
        matches!(self, DbCheck::ApiKey { .. })
    }
}

impl sealed::Sealed for User {}
impl DbPrincipal for User {
    fn db_role(&self) -> DbRole {
        self.role
    }
    fn jwt_claims(&self) -> Value {
        self.claims.clone()
    }
    fn db_check(&self) -> Option<DbCheck<'_>> {
        self.session_id
            .as_deref()
            .map(|session_id| DbCheck::LiveSession { session_id })
    }
}

impl sealed::Sealed for TenantUser {}
impl DbPrincipal for TenantUser {
    fn db_role(&self) -> DbRole {
        self.user.db_role()
    }
    fn jwt_claims(&self) -> Value {
        self.user.jwt_claims()
    }
    fn db_check(&self) -> Option<DbCheck<'_>> {
        self.user.db_check()
    }
}

// An API key acts as `authenticated` without a `sub`: user policies (`auth.uid() = …`) grant it
// nothing. Until `private.admit_api_key` replaces them, its claims name no key, so nothing the
// key policies check is granted either. Never service_role: RLS stays the backstop for server
// callers too.
impl sealed::Sealed for ApiKeyClient {}
impl DbPrincipal for ApiKeyClient {
    fn db_role(&self) -> DbRole {
        DbRole::Authenticated
    }
    fn jwt_claims(&self) -> Value {
        json!({ "role": "authenticated" })
    }
    fn db_check(&self) -> Option<DbCheck<'_>> {
        Some(DbCheck::ApiKey {
            prefix: &self.key_prefix,
            key_sha256: &self.key_sha256,
            scope: self.required_scope,
        })
    }
    fn db_check_passed(&self) {
        self.admitted.set(true);
    }
}

// A public route runs as PostgREST runs a request without a token.
impl sealed::Sealed for PublicEndpoint {}
impl DbPrincipal for PublicEndpoint {
    fn db_role(&self) -> DbRole {
        DbRole::Anon
    }
    fn jwt_claims(&self) -> Value {
        json!({ "role": "anon" })
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

/// The consumer of one of the platform's own Cloudflare Queues. Only the platform's workers can
/// put messages on them (a producer binding, not a URL anyone can reach), and they queue only
/// what they verified first (the Meta webhook queues messages of a delivery whose signature it
/// checked and which it stored), so the batch is the proof.
#[derive(Debug, Clone)]
pub struct QueueConsumer {
    queue: String,
}

impl QueueConsumer {
    /// For a function's queue entry point only: the platform delivers the batch itself.
    pub fn for_bound_queue(queue: &str) -> Self {
        Self {
            queue: queue.to_owned(),
        }
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }
}

impl sealed::Sealed for QueueConsumer {}
impl DbPrincipal for QueueConsumer {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user(claims: Value) -> User {
        User::from_verified_claims(
            Some("aaaaaaaa-0000-4000-8000-000000000001".into()),
            DbRole::Authenticated,
            Aal::Aal1,
            None,
            None,
            claims,
            "test-token",
        )
    }

    const WS: &str = "a0000000-0000-4000-8000-00000000000a";

    #[test]
    fn tenant_comes_from_the_request_or_app_metadata_never_user_metadata() {
        let requested = TenantUser::new(user(json!({})), Some(WS)).unwrap();
        assert_eq!(requested.workspace_id(), WS);
        let from_app = TenantUser::new(user(json!({"app_metadata": {"workspace_id": WS}})), None);
        assert_eq!(from_app.unwrap().workspace_id(), WS);
        let from_user_metadata =
            TenantUser::new(user(json!({"user_metadata": {"workspace_id": WS}})), None);
        assert_eq!(from_user_metadata.unwrap_err().code, "workspace_required");
        let bad = TenantUser::new(user(json!({})), Some("'; drop table x; --")).unwrap_err();
        assert_eq!((bad.status, bad.code), (400, "invalid_workspace"));
    }

    #[test]
    fn debug_output_masks_claims_and_withholds_tokens_and_bodies() {
        let user = User::from_verified_claims(
            Some("aaaaaaaa-0000-4000-8000-000000000001".into()),
            DbRole::Authenticated,
            Aal::Aal1,
            None,
            None,
            json!({"email": "owner@acme.test", "phone": "+5491123456789"}),
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        );
        let tenant = TenantUser::new(user, Some(WS)).unwrap();
        let printed = format!("{tenant:?}");
        for secret in ["owner@acme.test", "5491123456789", "eyJhbGciOiJIUzI1NiJ9"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("aaaaaaaa-0000-4000-8000-000000000001"));
        let webhook = VerifiedWebhook::new(
            WebhookProvider::Meta,
            "sha256:00".into(),
            "messages".into(),
            None,
            json!({"wa_id": "5491123456789"}),
            "{\"wa_id\":\"5491123456789\"}".into(),
        );
        let printed = format!("{webhook:?}");
        assert!(!printed.contains("5491123456789"), "{printed}");
        assert!(printed.contains("bytes withheld"), "{printed}");
    }

    #[test]
    fn a_public_endpoint_needs_a_written_reason() {
        assert!(PublicEndpoint::declared("").is_none());
        assert!(PublicEndpoint::declared("   because  ").is_none());
        let public = PublicEndpoint::declared("health check for the load balancer").unwrap();
        assert_eq!(public.db_role(), DbRole::Anon);
    }

    #[test]
    fn a_schedule_must_be_declared() {
        assert!(CronCaller::from_declared_schedule(&["17 3 * * *"], "17 3 * * *").is_ok());
        let refusal = CronCaller::from_declared_schedule(&["17 3 * * *"], "* * * * *").unwrap_err();
        assert_eq!(refusal.code, "undeclared_schedule");
    }

    #[test]
    fn api_key_clients_never_bypass_rls_and_are_checked_in_the_database() {
        let client = ApiKeyClient::new("0123456789ab".into(), [7; 32], "notes:read");
        assert_eq!(client.db_role(), DbRole::Authenticated);
        assert_eq!(client.jwt_claims(), json!({ "role": "authenticated" }));
        assert_eq!(
            client.db_check(),
            Some(DbCheck::ApiKey {
                prefix: "0123456789ab",
                key_sha256: &[7; 32],
                scope: "notes:read"
            })
        );
        assert!(!format!("{client:?}").contains("07, 07"));
        let handed_to_the_handler = client.clone();
        assert!(!client.admitted());
        handed_to_the_handler.db_check_passed();
        assert!(client.admitted());
    }

    #[test]
    fn a_token_with_a_session_is_checked_against_the_session_store() {
        let with_session = User::from_verified_claims(
            Some("aaaaaaaa-0000-4000-8000-000000000001".into()),
            DbRole::Authenticated,
            Aal::Aal1,
            Some("5e551011-0000-4000-8000-000000000001".into()),
            None,
            json!({}),
            "t",
        );
        let check = Some(DbCheck::LiveSession {
            session_id: "5e551011-0000-4000-8000-000000000001",
        });
        assert_eq!(with_session.db_check(), check);
        let tenant = TenantUser::new(with_session, Some(WS)).unwrap();
        assert_eq!(tenant.db_check(), check);
        assert_eq!(user(json!({})).db_check(), None);
    }
}
