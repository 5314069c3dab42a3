//! The guard every edge function goes through.
//!
//! A request proves who it is by one of the schemes below; a successful check returns a
//! *principal*, a value whose fields are private to this crate. A handler that needs a caller
//! takes the principal as an argument, so it cannot run without the check having passed.
//! Every failure is a [`Refusal`]: one JSON shape, a stable code, the right HTTP status.

mod api_key;
mod bearer;
mod cron;
mod jwks;
mod jwt;
mod paddle;
mod principal;
mod refusal;
mod requirement;

pub use api_key::{
    hash_api_key, mint_api_key, MintedApiKey, PresentedApiKey, StoredApiKey, API_KEY_ENTROPY_BYTES,
    API_KEY_SCHEME,
};
pub use cron::CronSecrets;
pub use jwks::{jwks_url, JwkSet, JwksCache, JwksError, DEFAULT_JWKS_TTL_SECS, MIN_REFETCH_SECS};
pub use jwt::{is_uuid, JwtConfig, SigningKey, SupabaseJwtVerifier, MAX_TOKEN_LENGTH};
pub use paddle::{PaddleVerifier, PADDLE_DEFAULT_TOLERANCE_SECS};
pub use principal::{
    Aal, ApiKeyClient, CronCaller, CronTrigger, DbPrincipal, DbRole, PublicEndpoint, TenantUser,
    User, VerifiedWebhook, WebhookProvider, MIN_PUBLIC_REASON_LEN,
};
pub use refusal::Refusal;
pub use requirement::UserRequirement;
