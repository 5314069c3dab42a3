//! The guard every edge function goes through.
//!
//! A request proves who it is by one of the schemes below; a successful check returns a
//! *principal*, a value whose fields are private to this crate. A handler that needs a caller
//! takes the principal as an argument, so it cannot run without the check having passed.
//! Every failure is a [`Refusal`]: one JSON shape, a stable code, the right HTTP status.
//!
//! # Webhooks
//!
//! One verifier per provider, all built on the same parts (`webhook.rs`): several secrets at
//! once (rotation), every signature in the header tried, HMAC-SHA256 over the exact raw bytes,
//! constant-time comparison of decoded bytes, a two-sided time window where the scheme signs a
//! time. Each success is a [`VerifiedWebhook`] whose `event_id` is the dedupe key.
//!
//! | provider | verifier | signed | window | dedupe key (`event_id`) |
//! |---|---|---|---|---|
//! | Paddle | [`PaddleVerifier`] | `<ts>:<body>` | 5 s default, ≤ 300 s | body `event_id` |
//! | Meta | [`MetaVerifier`], [`MetaSubscription`] | body | none signed | `sha256:<hex of SHA-256(body)>` |
//! | Mercado Pago | [`MercadoPagoVerifier`] | `id:…;request-id:…;ts:…;` (not the body) | 300 s default, ≤ 3600 s | `<body id>:<type>:<data.id>:<action>` |
//! | Standard Webhooks | [`StandardWebhooksVerifier`] | `<id>.<ts>.<body>` | ±300 s | `webhook-id` |
//!
//! Refusal codes of the webhook verifiers (stable; clients and tests match on them):
//!
//! | status | code | when |
//! |---|---|---|
//! | 401 | `missing_signature` | the signature header (or, for Standard Webhooks, any of its three headers) is absent |
//! | 401 | `malformed_signature` | the header does not parse: no decodable signature, no/two/non-digit timestamps, over 4 KiB, a bad `webhook-id` |
//! | 401 | `stale_signature` | the signed timestamp is outside the window, either way |
//! | 401 | `invalid_signature` | no signature matches any configured secret |
//! | 400 | `invalid_payload` | the signed body is not UTF-8 JSON of the provider's shape |
//! | 400 | `invalid_occurred_at` | Paddle: a signed `occurred_at` that is not RFC 3339 (`now`, `infinity`, …) |
//! | 400 | `invalid_query` | Mercado Pago: `data.id` given twice in the URL |
//! | 400 | `payload_mismatch` | Mercado Pago: the unsigned body's `data.id` differs from the signed one |
//! | 400 | `malformed_subscribe_request` | Meta handshake: `hub.mode` or `hub.challenge` missing, repeated or not plain letters/digits |
//! | 403 | `unsupported_hub_mode` | Meta handshake: `hub.mode` is not `subscribe` |
//! | 403 | `invalid_verify_token` | Meta handshake: the verify token is missing or not a configured one |
//!
//! A configuration problem (no secret, an undecodable `whsec_` secret) makes the constructor
//! return `None`; the adapter answers that as its own "not configured" error.

mod api_key;
mod bearer;
mod cron;
mod jwks;
mod jws;
mod jwt;
mod mercadopago;
mod meta;
mod paddle;
mod principal;
mod refusal;
mod requirement;
mod standard_webhooks;
mod webhook;
mod whatsapp_ownership;

pub use api_key::{
    hash_api_key, mint_api_key, MintedApiKey, PresentedApiKey, API_KEY_ENTROPY_BYTES,
    API_KEY_SCHEME,
};
pub use cron::CronSecrets;
pub use jwks::{jwks_url, JwkSet, JwksCache, JwksError, DEFAULT_JWKS_TTL_SECS, MIN_REFETCH_SECS};
pub use jws::{JwksKey, JwsAlgorithm, JwsSignatureCheck, PureRustSignatures};
pub use jwt::{is_uuid, JwtConfig, SigningKey, SupabaseJwtVerifier, MAX_TOKEN_LENGTH};
pub use mercadopago::{MercadoPagoVerifier, MERCADOPAGO_DEFAULT_TOLERANCE_SECS};
pub use meta::{MetaSubscription, MetaVerifier};
pub use paddle::{PaddleVerifier, PADDLE_DEFAULT_TOLERANCE_SECS};
pub use principal::{
    Aal, ApiKeyClient, CronCaller, CronTrigger, DbCheck, DbPrincipal, DbRole, PublicEndpoint,
    QueueConsumer, TenantUser, User, VerifiedWebhook, WebhookProvider, MIN_PUBLIC_REASON_LEN,
};
pub use refusal::Refusal;
pub use requirement::UserRequirement;
pub use standard_webhooks::{StandardWebhooksVerifier, STANDARD_WEBHOOKS_TOLERANCE_SECS};
pub use webhook::is_rfc3339;
pub use whatsapp_ownership::{check_graph_ids, is_graph_id, ProvenPhoneNumber};
