//! Calls to providers' APIs: Mercado Pago's payments (to act on what a notification only names),
//! Meta's Graph API (to prove a tenant owns a WhatsApp number) and an OpenAI-compatible chat
//! completions API (the assistant). Each base URL is a var, so
//! locally the same code talks to the contract stand-ins (ci/provider-stand-ins.mjs).

use edge_guard::{check_graph_ids, ProvenPhoneNumber, TenantUser};
use futures_util::StreamExt;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Fetch, Headers, Method, Request, RequestInit};

use crate::config::{optional_text, required_secret};
use crate::ApiError;

/// A provider's answer: its status and at most [`MAX_UPSTREAM_BODY_BYTES`] of its body.
pub(crate) struct Upstream {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A payment or a page of phone numbers is a few KB; more is refused rather than buffered.
const MAX_UPSTREAM_BODY_BYTES: usize = 256 * 1024;

const MERCADOPAGO_DEFAULT_API: &str = "https://api.mercadopago.com";
const META_GRAPH_DEFAULT_API: &str = "https://graph.facebook.com/v23.0";
const LLM_DEFAULT_API: &str = "https://api.openai.com/v1";

/// `GET <url>` with `Authorization: Bearer <token>`. `Err(Upstream)` when the provider cannot be
/// reached or its answer is larger than the cap; a provider's own refusal is an `Ok` status.
async fn get_with_bearer(url: &str, token: &str, what: &'static str) -> Result<Upstream, ApiError> {
    send_with_bearer(Method::Get, url, token, None, what).await
}

/// `POST <url>` of a JSON body with `Authorization: Bearer <token>`; as [`get_with_bearer`].
async fn post_json_with_bearer(
    url: &str,
    token: &str,
    body: String,
    what: &'static str,
) -> Result<Upstream, ApiError> {
    send_with_bearer(Method::Post, url, token, Some(body), what).await
}

async fn send_with_bearer(
    method: Method,
    url: &str,
    token: &str,
    json_body: Option<String>,
    what: &'static str,
) -> Result<Upstream, ApiError> {
    let unreachable = |_| ApiError::Upstream(what);
    let headers = Headers::new();
    headers
        .set("authorization", &format!("Bearer {token}"))
        .map_err(unreachable)?;
    headers
        .set("accept", "application/json")
        .map_err(unreachable)?;
    let mut init = RequestInit::new();
    if let Some(body) = json_body {
        headers
            .set("content-type", "application/json")
            .map_err(unreachable)?;
        init.with_body(Some(JsValue::from_str(&body)));
    }
    init.with_method(method).with_headers(headers);
    let request = Request::new_with_init(url, &init).map_err(unreachable)?;
    let mut response = Fetch::Request(request).send().await.map_err(unreachable)?;
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

/// An OpenAI-compatible `POST {LLM_API_URL}/chat/completions` (var LLM_API_URL, default
/// https://api.openai.com/v1; secret LLM_API_KEY). The provider's status and body; `Err` only
/// when it cannot be reached.
pub(crate) async fn chat_completions(env: &Env, body: String) -> Result<Upstream, ApiError> {
    let key = required_secret(env, "LLM_API_KEY")?;
    let base = optional_text(env, "LLM_API_URL").unwrap_or_else(|| LLM_DEFAULT_API.to_owned());
    let url = format!("{}/chat/completions", base.trim_end_matches('/'));
    post_json_with_bearer(&url, &key, body, "the language model API").await
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
    get_with_bearer(&url, &token, WHAT).await
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
    let base = optional_text(env, "META_GRAPH_API_BASE_URL")
        .unwrap_or_else(|| META_GRAPH_DEFAULT_API.to_owned());
    let url = format!(
        "{}/{waba_id}/phone_numbers?fields=id,display_phone_number,verified_name&limit=100",
        base.trim_end_matches('/')
    );
    let listing = get_with_bearer(&url, access_token, "Meta's Graph API").await?;
    Ok(ProvenPhoneNumber::from_graph_listing(
        caller,
        waba_id,
        phone_number_id,
        listing.status,
        &listing.body,
    )?)
}
