//! The guard crate's checks, fed from a workers-rs request and the function's environment.

use edge_guard::{
    CronCaller, CronSecrets, JwtConfig, PaddleVerifier, Refusal, SupabaseJwtVerifier, User,
    VerifiedWebhook, PADDLE_DEFAULT_TOLERANCE_SECS,
};
use worker::{Env, Method, Request};

use crate::config::{optional_number, optional_text, required_secret, secret_list};
use crate::request::{header, read_body_capped};
use crate::ApiError;

/// Webhook bodies above this are refused before they are read (Paddle events are a few KB).
const MAX_WEBHOOK_BODY_BYTES: usize = 256 * 1024;

/// Refuses any method but `allowed` with 405.
pub fn require_method(req: &Request, allowed: Method) -> Result<(), ApiError> {
    if req.method() == allowed {
        Ok(())
    } else {
        Err(Refusal::new(
            405,
            "method_not_allowed",
            "this endpoint does not accept that method",
        )
        .into())
    }
}

/// The signed-in Supabase user behind the request's bearer token (HS256 project secret).
/// Vars: SUPABASE_JWT_SECRET (secret), JWT_AUDIENCE, JWT_ISSUER, JWT_LEEWAY_SECS (optional).
pub fn signed_in_user(req: &Request, env: &Env) -> Result<User, ApiError> {
    let secret = required_secret(env, "SUPABASE_JWT_SECRET")?;
    let defaults = JwtConfig::default();
    let config = JwtConfig {
        leeway_secs: optional_number(env, "JWT_LEEWAY_SECS")?.unwrap_or(defaults.leeway_secs),
        audience: optional_text(env, "JWT_AUDIENCE").or(defaults.audience),
        issuer: optional_text(env, "JWT_ISSUER").or(defaults.issuer),
    };
    let authorization = header(req, "authorization");
    Ok(SupabaseJwtVerifier::hs256(secret.as_bytes(), &config)
        .verify_user(authorization.as_deref())?)
}

/// A Paddle delivery whose signature matches one of PADDLE_WEBHOOK_SECRETS (comma-separated, for
/// rotation) within PADDLE_TOLERANCE_SECS (optional). The body is size-checked, then read once.
pub async fn paddle_webhook(req: &mut Request, env: &Env) -> Result<VerifiedWebhook, ApiError> {
    let secrets = secret_list(env, "PADDLE_WEBHOOK_SECRETS")?;
    let tolerance =
        optional_number(env, "PADDLE_TOLERANCE_SECS")?.unwrap_or(PADDLE_DEFAULT_TOLERANCE_SECS);
    let verifier = PaddleVerifier::new(secrets.iter().map(String::as_str), tolerance)
        .ok_or(ApiError::NotConfigured("PADDLE_WEBHOOK_SECRETS"))?;
    let signature = header(req, "paddle-signature");
    let body = read_body_capped(req, MAX_WEBHOOK_BODY_BYTES).await?;
    let now = worker::Date::now().as_millis() / 1000;
    Ok(verifier.verify(signature.as_deref(), &body, now)?)
}

/// An HTTP caller of a cron job: must present one of CRON_SECRETS in `X-Cron-Secret`.
pub fn cron_caller(req: &Request, env: &Env) -> Result<CronCaller, ApiError> {
    let secrets = secret_list(env, "CRON_SECRETS")?;
    let secrets = CronSecrets::new(secrets.iter().map(String::as_str))
        .ok_or(ApiError::NotConfigured("CRON_SECRETS"))?;
    Ok(secrets.verify(header(req, "x-cron-secret").as_deref())?)
}
