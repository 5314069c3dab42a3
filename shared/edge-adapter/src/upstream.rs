//! Calls to providers' APIs: Mercado Pago's payments (to act on what a notification only names),
//! Meta's Graph API (to prove a tenant owns a WhatsApp number, to send WhatsApp messages), an
//! OpenAI-compatible chat completions API (the assistant) and, through [`call`], the e-mail
//! provider. Each base URL is a var, so locally the same code talks
//! to the contract stand-ins (ci/provider-stand-ins.mjs).
//!
//! Every outbound call goes through [`call`]: the provider's circuit breaker ([`crate::breaker`])
//! admits it or refuses it at once (503 `upstream_unavailable` with `Retry-After`), the call is
//! bounded in time (var UPSTREAM_TIMEOUT_MS, default 10 s) and in answer size, and a failure
//! (no connection, timeout, 5xx, 429) is reported to the breaker.

use std::time::Duration;

use breaker_policy::{Admission, Outcome, Provider, Report};
use edge_guard::{check_graph_ids, ProvenPhoneNumber, TenantUser};
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::wasm_bindgen::JsValue;
use worker::{
    AbortController, AbortSignal, Delay, Env, Fetch, Headers, Method, Request, RequestInit,
};

use crate::config::{optional_number, optional_text, required_secret};
use crate::{breaker, log_event, ApiError, Level};

/// A provider's answer: its status and at most [`MAX_UPSTREAM_BODY_BYTES`] of its body.
pub(crate) struct Upstream {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A payment or a page of phone numbers is a few KB; more is refused rather than buffered.
const MAX_UPSTREAM_BODY_BYTES: usize = 256 * 1024;

/// How long a provider gets to answer, headers and body, unless UPSTREAM_TIMEOUT_MS says.
const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 10_000;

const MERCADOPAGO_DEFAULT_API: &str = "https://api.mercadopago.com";
const META_GRAPH_DEFAULT_API: &str = "https://graph.facebook.com/v23.0";
const LLM_DEFAULT_API: &str = "https://api.openai.com/v1";

/// A request to a provider: `method url` with `Authorization: Bearer <token>`, JSON accepted,
/// and `body` (JSON) with `extra_headers` when given.
pub(crate) fn provider_request(
    method: Method,
    url: &str,
    token: &str,
    body: Option<&str>,
    extra_headers: &[(&str, &str)],
    what: &'static str,
) -> Result<Request, ApiError> {
    let unbuildable = |_| ApiError::Upstream(what);
    let headers = Headers::new();
    headers
        .set("authorization", &format!("Bearer {token}"))
        .map_err(unbuildable)?;
    headers
        .set("accept", "application/json")
        .map_err(unbuildable)?;
    if body.is_some() {
        headers
            .set("content-type", "application/json")
            .map_err(unbuildable)?;
    }
    for (name, value) in extra_headers {
        headers.set(name, value).map_err(unbuildable)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(body.map(JsValue::from_str));
    Request::new_with_init(url, &init).map_err(unbuildable)
}

/// Sends `request` to `provider` (named `what` in errors and logs) through its circuit breaker,
/// within the timeout. `Err(CircuitOpen)` when the breaker refuses (the provider is not called),
/// `Err(Upstream)` when the provider cannot be reached, does not answer in time, fails (5xx, 429)
/// or answers more than the cap; a provider's own refusal (another 4xx) is an `Ok` status.
pub(crate) async fn call(
    env: &Env,
    provider: Provider,
    what: &'static str,
    request: Request,
) -> Result<Upstream, ApiError> {
    let timeout =
        optional_number(env, "UPSTREAM_TIMEOUT_MS")?.unwrap_or(DEFAULT_UPSTREAM_TIMEOUT_MS);
    let admission = breaker::admit(env, provider).await;
    if let Admission::Refused { retry_after_secs } = admission {
        return Err(ApiError::CircuitOpen {
            provider: what,
            retry_after_secs,
        });
    }
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = Box::pin(exchange(request, &signal, what));
    let answer = match select(exchange, Delay::from(Duration::from_millis(timeout))).await {
        Either::Left((answer, _)) => answer,
        Either::Right(_) => {
            controller.abort();
            log_event(
                Level::Error,
                "upstream_timeout",
                &[
                    ("provider", provider.name().into()),
                    ("timeout_ms", timeout.into()),
                ],
            );
            Err(ApiError::Upstream(what))
        }
    };
    let outcome = match &answer {
        Ok(answer) => Outcome::of_status(answer.status),
        Err(_) => Outcome::Failure,
    };
    if admission.must_report(outcome) {
        let probe = admission == Admission::Probe;
        breaker::report(env, provider, Report { outcome, probe }).await;
    }
    // A provider failing (5xx, 429) is its outage, whatever the caller would make of the status:
    // 503 for our caller too, never read as the provider's answer (a refusal, a missing payment).
    match answer {
        Ok(failed) if outcome == Outcome::Failure => {
            log_event(
                Level::Error,
                "upstream_failed",
                &[
                    ("provider", provider.name().into()),
                    ("status", failed.status.into()),
                ],
            );
            Err(ApiError::Upstream(what))
        }
        answer => answer,
    }
}

/// The request and its whole (capped) answer.
async fn exchange(
    request: Request,
    signal: &AbortSignal,
    what: &'static str,
) -> Result<Upstream, ApiError> {
    let unreachable = |_| ApiError::Upstream(what);
    let mut response = Fetch::Request(request)
        .send_with_signal(signal)
        .await
        .map_err(unreachable)?;
    let status = response.status_code();
    let mut body = Vec::new();
    if let Ok(mut chunks) = response.stream() {
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(unreachable)?;
            if body.len() + chunk.len() > MAX_UPSTREAM_BODY_BYTES {
                return Err(ApiError::Upstream(what));
            }
            body.extend_from_slice(&chunk);
        }
    }
    Ok(Upstream { status, body })
}

/// `GET <url>` with `Authorization: Bearer <token>`, through `provider`'s breaker.
async fn get_with_bearer(
    env: &Env,
    provider: Provider,
    url: &str,
    token: &str,
    what: &'static str,
) -> Result<Upstream, ApiError> {
    let request = provider_request(Method::Get, url, token, None, &[], what)?;
    call(env, provider, what, request).await
}

/// An OpenAI-compatible `POST {LLM_API_URL}/chat/completions` (var LLM_API_URL, default
/// https://api.openai.com/v1; secret LLM_API_KEY) through the `llm` breaker. The provider's status
/// and body; `Err` when it cannot be reached, times out or its breaker is open.
pub(crate) async fn chat_completions(env: &Env, body: String) -> Result<Upstream, ApiError> {
    const WHAT: &str = "the language model API";
    let key = required_secret(env, "LLM_API_KEY")?;
    let base = optional_text(env, "LLM_API_URL").unwrap_or_else(|| LLM_DEFAULT_API.to_owned());
    let url = format!("{}/chat/completions", base.trim_end_matches('/'));
    let request = provider_request(Method::Post, &url, &key, Some(&body), &[], WHAT)?;
    call(env, Provider::Llm, WHAT, request).await
}

/// Mercado Pago's `GET /v1/payments/{id}` with the integration's access token
/// (secret MERCADOPAGO_ACCESS_TOKEN; var MERCADOPAGO_API_BASE_URL, default
/// https://api.mercadopago.com). `payment_id` must be letters, digits, `-` or `_` (Mercado Pago's
/// payment ids are numbers), so it can only name a payment.
pub async fn mercadopago_payment(env: &Env, payment_id: &str) -> Result<Upstream, ApiError> {
    const WHAT: &str = "Mercado Pago's payments API";
    let plain = !payment_id.is_empty()
        && payment_id.len() <= 64
        && payment_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plain {
        return Err(ApiError::Upstream(WHAT));
    }
    let token = required_secret(env, "MERCADOPAGO_ACCESS_TOKEN")?;
    let base = optional_text(env, "MERCADOPAGO_API_BASE_URL")
        .unwrap_or_else(|| MERCADOPAGO_DEFAULT_API.to_owned());
    let url = format!("{}/v1/payments/{payment_id}", base.trim_end_matches('/'));
    get_with_bearer(env, Provider::MercadoPago, &url, &token, WHAT).await
}

/// Proves that the caller's WhatsApp Business Account `waba_id` holds `phone_number_id`: Meta's
/// `GET /{waba_id}/phone_numbers`, asked with the tenant's own `access_token` (never stored or
/// logged), must list it (var META_GRAPH_API_BASE_URL, default
/// https://graph.facebook.com/v23.0). 400 for ids that are not digits (Meta is not asked), 403
/// `ownership_not_proven` when Meta refuses the token or does not list the number, 503 when Meta
/// cannot be reached.
pub async fn prove_whatsapp_number(
    env: &Env,
    caller: &TenantUser,
    waba_id: &str,
    phone_number_id: &str,
    access_token: &str,
) -> Result<ProvenPhoneNumber, ApiError> {
    check_graph_ids(waba_id, phone_number_id)?;
    let url = format!(
        "{}/{waba_id}/phone_numbers?fields=id,display_phone_number,verified_name&limit=100",
        graph_base(env)
    );
    let listing = get_with_bearer(env, Provider::MetaGraph, &url, access_token, META_GRAPH).await?;
    Ok(ProvenPhoneNumber::from_graph_listing(
        caller,
        waba_id,
        phone_number_id,
        listing.status,
        &listing.body,
    )?)
}

const META_GRAPH: &str = "Meta's Graph API";

/// META_GRAPH_API_BASE_URL without a trailing `/` (default https://graph.facebook.com/v23.0).
fn graph_base(env: &Env) -> String {
    optional_text(env, "META_GRAPH_API_BASE_URL")
        .unwrap_or_else(|| META_GRAPH_DEFAULT_API.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Sends `text` to the WhatsApp user `to` from the business number `phone_number_id`, as a reply
/// to the inbound message `in_reply_to` (a `wamid`): Meta's
/// `POST /{phone-number-id}/messages` with the platform's system-user token (secret
/// META_SYSTEM_USER_TOKEN, granted the tenants' WhatsApp Business Accounts through Embedded
/// Signup). Returns the `wamid` Meta gave the reply. A refusal by Meta (4xx) is 503
/// `upstream_unavailable` too: the message is retried later, not dropped.
pub async fn send_whatsapp_text(
    env: &Env,
    phone_number_id: &str,
    to: &str,
    text: &str,
    in_reply_to: &str,
) -> Result<String, ApiError> {
    let token = required_secret(env, "META_SYSTEM_USER_TOKEN")?;
    let url = format!("{}/{phone_number_id}/messages", graph_base(env));
    let body = serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "context": { "message_id": in_reply_to },
        "type": "text",
        "text": { "preview_url": false, "body": text },
    })
    .to_string();
    let request = provider_request(Method::Post, &url, &token, Some(&body), &[], META_GRAPH)?;
    let answer = call(env, Provider::MetaGraph, META_GRAPH, request).await?;
    let sent: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    match (answer.status, sent["messages"][0]["id"].as_str()) {
        (200, Some(wamid)) => Ok(wamid.to_owned()),
        (status, _) => {
            log_event(
                Level::Error,
                "whatsapp_send_refused",
                &[("status", status.into())],
            );
            Err(ApiError::Upstream(META_GRAPH))
        }
    }
}
