//! Every declared route's rate limits (policy and defaults: the `rate-limit` crate), counted by
//! the limiter's Durable Objects (`workers/rate-limiter`) through the `RATE_LIMITER` binding.
//! The per-IP count runs before the guard, the per-account count after it.

use edge_guard::{ApiKeyClient, CronCaller, PublicEndpoint, TenantUser, User, VerifiedWebhook};
use rate_limit::{counter_key, decode_decision, hit_query, ip_subject, Rate, RouteLimits, Scope};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::DurableObject as DurableObjectStub;
use worker::{Env, Request};

use crate::config::optional_number;
use crate::guards::MetaChallenge;
use crate::request::header;
use crate::ApiError;

/// The account a principal's requests count against, after its guard let it in: a user's id,
/// an API key's id. `None`: only the per-IP limit applies (webhooks, the cron caller, public
/// routes, a token with no subject). A new route kind implements this for its principal.
pub trait RateLimitAccount {
    fn rate_limit_account(&self) -> Option<String>;
}

impl RateLimitAccount for User {
    fn rate_limit_account(&self) -> Option<String> {
        self.id().map(|id| format!("user:{id}"))
    }
}

impl RateLimitAccount for TenantUser {
    fn rate_limit_account(&self) -> Option<String> {
        self.user().rate_limit_account()
    }
}

/// A key caller counts against its key, named by the public prefix (the database proves the key
/// later, in the request's transaction; guessing keys is what the per-IP limit throttles).
impl RateLimitAccount for ApiKeyClient {
    fn rate_limit_account(&self) -> Option<String> {
        Some(format!("api_key:{}", self.key_prefix()))
    }
}

/// No account: these count per IP only.
macro_rules! per_ip_only {
    ($($principal:ty),+) => {$(
        impl RateLimitAccount for $principal {
            fn rate_limit_account(&self) -> Option<String> {
                None
            }
        }
    )+};
}
per_ip_only!(VerifiedWebhook, CronCaller, PublicEndpoint, MetaChallenge);

/// One route's limits as the adapter applies them: `METHOD path` names its counters.
#[derive(Clone)]
pub(crate) struct RouteLimiter {
    pub route: String,
    pub limits: RouteLimits,
}

impl RouteLimiter {
    /// Counts the request against the client address (`CF-Connecting-IP`).
    pub async fn count_ip(&self, env: &Env, req: &Request) -> Result<(), ApiError> {
        let subject = ip_subject(header(req, "cf-connecting-ip").as_deref());
        self.count(env, Scope::Ip, &subject).await
    }

    /// Counts the request against the admitted principal's account, if it has one.
    pub async fn count_account(
        &self,
        env: &Env,
        principal: &impl RateLimitAccount,
    ) -> Result<(), ApiError> {
        match principal.rate_limit_account() {
            Some(account) => self.count(env, Scope::Account, &account).await,
            None => Ok(()),
        }
    }

    /// One hit on the counter of (scope, route, subject), if this route limits `scope`. The
    /// deployment's RATE_LIMIT_SCALE (a whole number, default 1) multiplies every limit, for
    /// load tests.
    async fn count(&self, env: &Env, scope: Scope, subject: &str) -> Result<(), ApiError> {
        let Some(rate) = self.limits.rate(scope) else {
            return Ok(());
        };
        let scale = optional_number::<u32>(env, "RATE_LIMIT_SCALE")?.unwrap_or(1);
        let key = counter_key(scope, &self.route, subject);
        count_hit(env, scope, &key, rate.scaled(scale)).await
    }
}

/// One hit on the counter named `key` (its own Durable Object); 429 for `scope` over `rate`.
/// A limiter that cannot be reached answers 503: the limits are a security control, so a
/// request is not let through uncounted. (Public for the benchmark worker, which measures it.)
pub async fn count_hit(env: &Env, scope: Scope, key: &str, rate: Rate) -> Result<(), ApiError> {
    let namespace = env
        .durable_object("RATE_LIMITER")
        .map_err(|_| ApiError::NotConfigured("RATE_LIMITER (Durable Object binding)"))?;
    let unavailable = || ApiError::Upstream("the rate limiter");
    let stub = namespace
        .id_from_name(key)
        .and_then(|id| id.get_stub())
        .map_err(|_| unavailable())?;
    let text = hit_answer(
        stub.into_rpc(),
        &format!("https://rate-limiter/hit?{}", hit_query(rate)),
    )
    .await
    .map_err(|_| unavailable())?;
    let decision = decode_decision(&text).ok_or(ApiError::Upstream("the rate limiter's answer"))?;
    if decision.allowed {
        Ok(())
    } else {
        Err(ApiError::RateLimited {
            scope,
            retry_after_secs: decision.retry_after_secs,
        })
    }
}

/// The limiter's answer to `url`, read by the runtime's `Response.text()`. (`Stub::fetch_with_str`
/// would convert the response, reading its `cf`, and read the body through a Rust stream whose
/// reader release costs a captured TypeError stack: BENCHMARKS.md, "Where workerd's time goes".)
async fn hit_answer(stub: DurableObjectStub, url: &str) -> Result<String, JsValue> {
    let response: web_sys::Response = JsFuture::from(stub.fetch_with_str(url)?)
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from(response.status()));
    }
    let text = JsFuture::from(response.text()?).await?;
    text.as_string().ok_or(text)
}
