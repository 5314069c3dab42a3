//! The guard crate's checks, fed from a workers-rs request and the function's environment.
//! Only [`crate::Route`] calls these: a function declares a guard, it never runs one itself.

use std::cell::RefCell;

use edge_guard::{
    jwks_url, ApiKeyClient, CronCaller, CronSecrets, JwkSet, JwksCache, JwtConfig,
    MercadoPagoVerifier, MetaSubscription, MetaVerifier, PaddleVerifier, PresentedApiKey,
    SigningKey, StandardWebhooksVerifier, SupabaseJwtVerifier, TenantUser, User, UserRequirement,
    VerifiedWebhook, DEFAULT_JWKS_TTL_SECS, MERCADOPAGO_DEFAULT_TOLERANCE_SECS,
    PADDLE_DEFAULT_TOLERANCE_SECS,
};
use worker::{Env, Fetch, Request};

use crate::config::{optional_number, optional_text, secret_list};
use crate::request::{header, query_string, query_text, read_body_capped};
use crate::web_crypto::WebCryptoSignatures;
use crate::{log_event, ApiError, Level};

/// Each provider's body cap, checked (Content-Length, then the bytes received) before anything
/// is parsed; above it the answer is 413. Paddle events are a few KB.
const PADDLE_MAX_BODY_BYTES: usize = 256 * 1024;
/// Meta batches up to 1000 updates in one body; a WhatsApp message or status update with its
/// metadata and contact is about 1 KB, so 1000 of them at 2 KiB each fit with room to spare.
/// Meta documents no maximum: a larger body is refused rather than buffered without bound.
const META_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// A Mercado Pago notification is a few hundred bytes (ids, type, action, `data.id`).
const MERCADOPAGO_MAX_BODY_BYTES: usize = 64 * 1024;
/// Standard Webhooks events (Resend's delivery events among them) are a few KB: the e-mail's
/// metadata, never its content.
const STANDARD_WEBHOOKS_MAX_BODY_BYTES: usize = 256 * 1024;

pub(crate) fn now_secs() -> u64 {
    worker::Date::now().as_millis() / 1000
}

/// The caller behind the request's Supabase token, as `requirement` demands.
/// Secrets/vars: SUPABASE_JWT_SECRET (HS256, optional if SUPABASE_URL is set), SUPABASE_URL
/// (its JWKS verifies ES256/RS256 tokens), JWT_AUDIENCE, JWT_ISSUER, JWT_LEEWAY_SECS,
/// JWKS_TTL_SECS (optional).
pub(crate) async fn signed_in_user(
    req: &Request,
    env: &Env,
    requirement: &UserRequirement,
) -> Result<User, ApiError> {
    let (verifier, authorization, jwks, now) = prepare_user_check(req, env).await?;
    Ok(verifier
        .verify_user_with(
            authorization.as_deref(),
            jwks.as_ref(),
            requirement,
            now,
            &WebCryptoSignatures,
        )
        .await?)
}

/// As [`signed_in_user`], acting for the workspace named by `?workspace=` (or the token's
/// `app_metadata.workspace_id`).
pub(crate) async fn tenant_user(
    req: &Request,
    env: &Env,
    requirement: &UserRequirement,
) -> Result<TenantUser, ApiError> {
    let (verifier, authorization, jwks, now) = prepare_user_check(req, env).await?;
    let workspace = query_text(req, "workspace");
    Ok(verifier
        .verify_tenant_user_with(
            authorization.as_deref(),
            jwks.as_ref(),
            requirement,
            workspace.as_deref(),
            now,
            &WebCryptoSignatures,
        )
        .await?)
}

type UserCheck = (SupabaseJwtVerifier, Option<String>, Option<JwkSet>, u64);

async fn prepare_user_check(req: &Request, env: &Env) -> Result<UserCheck, ApiError> {
    let secret = env
        .secret("SUPABASE_JWT_SECRET")
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.trim().is_empty());
    let supabase_url = optional_text(env, "SUPABASE_URL");
    if secret.is_none() && supabase_url.is_none() {
        return Err(ApiError::NotConfigured(
            "SUPABASE_JWT_SECRET or SUPABASE_URL",
        ));
    }
    let defaults = JwtConfig::default();
    let config = JwtConfig {
        leeway_secs: optional_number(env, "JWT_LEEWAY_SECS")?.unwrap_or(defaults.leeway_secs),
        audience: optional_text(env, "JWT_AUDIENCE").or(defaults.audience),
        issuer: optional_text(env, "JWT_ISSUER").or(defaults.issuer),
    };
    let authorization = header(req, "authorization");
    let now = now_secs();
    // The JWKS is fetched only for a token that names a JWKS key; a malformed header is left
    // for the verifier to refuse.
    let jwks = match SigningKey::of_authorization(authorization.as_deref()) {
        Ok(SigningKey::Jwks { kid }) => {
            let url = supabase_url.ok_or(ApiError::NotConfigured("SUPABASE_URL"))?;
            let ttl = optional_number(env, "JWKS_TTL_SECS")?.unwrap_or(DEFAULT_JWKS_TTL_SECS);
            Some(project_keys(&url, ttl, &kid, now).await?)
        }
        _ => None,
    };
    let verifier = SupabaseJwtVerifier::new(secret.as_deref().map(str::as_bytes), &config);
    Ok((verifier, authorization, jwks, now))
}

thread_local! {
    /// One cache per isolate: every request this isolate serves shares the fetched keys.
    static JWKS: RefCell<Option<JwksCache>> = const { RefCell::new(None) };
}

/// The project's keys, fetched when the cache is empty, past its TTL, or lacks `kid`.
async fn project_keys(
    supabase_url: &str,
    ttl_secs: u64,
    kid: &str,
    now: u64,
) -> Result<JwkSet, ApiError> {
    let needs_fetch = JWKS.with_borrow(|cache| {
        cache
            .as_ref()
            .is_none_or(|cache| cache.needs_fetch(kid, now))
    });
    if needs_fetch {
        let fetched = fetch_jwks(&jwks_url(supabase_url)).await;
        JWKS.with_borrow_mut(|cache| {
            let cache = cache.get_or_insert_with(|| JwksCache::new(ttl_secs));
            match fetched {
                Ok(document) => {
                    if let Err(error) = cache.store(&document, now) {
                        log_event(
                            Level::Error,
                            "jwks_unusable",
                            &[("detail", error.to_string().into())],
                        );
                    }
                }
                Err(error) => log_event(
                    Level::Error,
                    "jwks_fetch_failed",
                    &[("detail", error.to_string().into())],
                ),
            }
        });
    }
    JWKS.with_borrow(|cache| cache.as_ref().and_then(|c| c.keys(now)).cloned())
        .ok_or(ApiError::Upstream("the project's signing keys (JWKS)"))
}

async fn fetch_jwks(url: &str) -> worker::Result<String> {
    let mut response = Fetch::Url(url.parse()?).send().await?;
    if response.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "status {}",
            response.status_code()
        )));
    }
    response.text().await
}

/// A Paddle delivery whose signature matches one of PADDLE_WEBHOOK_SECRETS (comma-separated, for
/// rotation) within PADDLE_TOLERANCE_SECS (optional). The body is size-checked, then read once.
pub(crate) async fn paddle_webhook(
    req: &mut Request,
    env: &Env,
) -> Result<VerifiedWebhook, ApiError> {
    let secrets = secret_list(env, "PADDLE_WEBHOOK_SECRETS")?;
    let tolerance =
        optional_number(env, "PADDLE_TOLERANCE_SECS")?.unwrap_or(PADDLE_DEFAULT_TOLERANCE_SECS);
    let verifier = PaddleVerifier::new(secrets.iter().map(String::as_str), tolerance)
        .ok_or(ApiError::NotConfigured("PADDLE_WEBHOOK_SECRETS"))?;
    let signature = header(req, "paddle-signature");
    let body = read_body_capped(req, PADDLE_MAX_BODY_BYTES).await?;
    Ok(verifier.verify(signature.as_deref(), &body, now_secs())?)
}

/// A Meta delivery whose `X-Hub-Signature-256` matches one of META_APP_SECRETS (comma-separated,
/// for rotation). The body is size-checked, then read once.
pub(crate) async fn meta_webhook(
    req: &mut Request,
    env: &Env,
) -> Result<VerifiedWebhook, ApiError> {
    let secrets = secret_list(env, "META_APP_SECRETS")?;
    let verifier = MetaVerifier::new(secrets.iter().map(String::as_str))
        .ok_or(ApiError::NotConfigured("META_APP_SECRETS"))?;
    let signature = header(req, "x-hub-signature-256");
    let body = read_body_capped(req, META_MAX_BODY_BYTES).await?;
    Ok(verifier.verify(signature.as_deref(), &body)?)
}

/// Meta's subscribe handshake: `hub.verify_token` must be one of META_VERIFY_TOKENS
/// (comma-separated, for rotation); the principal carries the challenge to echo.
pub(crate) fn meta_subscription(req: &Request, env: &Env) -> Result<MetaChallenge, ApiError> {
    let tokens = secret_list(env, "META_VERIFY_TOKENS")?;
    let subscription = MetaSubscription::new(tokens.iter().map(String::as_str))
        .ok_or(ApiError::NotConfigured("META_VERIFY_TOKENS"))?;
    let challenge = subscription.answer(&query_string(req))?;
    Ok(MetaChallenge { challenge })
}

/// A Mercado Pago notification whose `x-signature` (over `data.id` from the URL, `x-request-id`
/// and its `ts`) matches one of MERCADOPAGO_WEBHOOK_SECRETS (comma-separated, for rotation)
/// within MERCADOPAGO_TOLERANCE_SECS (optional). The body is size-checked, then read once.
pub(crate) async fn mercadopago_webhook(
    req: &mut Request,
    env: &Env,
) -> Result<VerifiedWebhook, ApiError> {
    let secrets = secret_list(env, "MERCADOPAGO_WEBHOOK_SECRETS")?;
    let tolerance = optional_number(env, "MERCADOPAGO_TOLERANCE_SECS")?
        .unwrap_or(MERCADOPAGO_DEFAULT_TOLERANCE_SECS);
    let verifier = MercadoPagoVerifier::new(secrets.iter().map(String::as_str), tolerance)
        .ok_or(ApiError::NotConfigured("MERCADOPAGO_WEBHOOK_SECRETS"))?;
    let signature = header(req, "x-signature");
    let request_id = header(req, "x-request-id");
    let query = query_string(req);
    let body = read_body_capped(req, MERCADOPAGO_MAX_BODY_BYTES).await?;
    Ok(verifier.verify(
        signature.as_deref(),
        request_id.as_deref(),
        &query,
        &body,
        now_secs(),
    )?)
}

/// A Standard Webhooks delivery (Svix and the senders built on it, e.g. Resend) whose
/// `webhook-signature` matches one of STANDARD_WEBHOOKS_SECRETS (`whsec_…`, comma-separated, for
/// rotation) within the scheme's ±5 minutes. The body is size-checked, then read once.
pub(crate) async fn standard_webhooks(
    req: &mut Request,
    env: &Env,
) -> Result<VerifiedWebhook, ApiError> {
    let secrets = secret_list(env, "STANDARD_WEBHOOKS_SECRETS")?;
    let verifier = StandardWebhooksVerifier::new(secrets.iter().map(String::as_str))
        .ok_or(ApiError::NotConfigured("STANDARD_WEBHOOKS_SECRETS"))?;
    let id = header(req, "webhook-id");
    let timestamp = header(req, "webhook-timestamp");
    let signature = header(req, "webhook-signature");
    let body = read_body_capped(req, STANDARD_WEBHOOKS_MAX_BODY_BYTES).await?;
    Ok(verifier.verify(
        id.as_deref(),
        timestamp.as_deref(),
        signature.as_deref(),
        &body,
        now_secs(),
    )?)
}

/// What a passed Meta subscribe handshake yields: the challenge to answer with. Only this
/// module makes one, so a handler holding it knows the verify token matched. It reaches no
/// database (it is no `DbPrincipal`).
#[derive(Debug)]
pub struct MetaChallenge {
    challenge: String,
}

impl MetaChallenge {
    /// The challenge, already checked to be 1 to 128 letters, digits, `-` or `_`.
    pub fn into_challenge(self) -> String {
        self.challenge
    }
}

/// An HTTP caller of a cron job: must present one of CRON_SECRETS in `X-Cron-Secret`.
pub(crate) fn cron_caller(req: &Request, env: &Env) -> Result<CronCaller, ApiError> {
    let secrets = secret_list(env, "CRON_SECRETS")?;
    let secrets = CronSecrets::new(secrets.iter().map(String::as_str))
        .ok_or(ApiError::NotConfigured("CRON_SECRETS"))?;
    Ok(secrets.verify(header(req, "x-cron-secret").as_deref())?)
}

/// The caller behind a well-formed `X-Api-Key`, for a route that needs `scope`. No secret and no
/// lookup here: the key's prefix and SHA-256 are proven against the `api_keys` table in the
/// request's own transaction, before the handler's statements run (`edge_guard::DbCheck::ApiKey`).
pub(crate) fn api_key_caller(req: &Request, scope: &'static str) -> Result<ApiKeyClient, ApiError> {
    let key = header(req, "x-api-key");
    Ok(PresentedApiKey::parse(key.as_deref())?.caller(scope))
}
