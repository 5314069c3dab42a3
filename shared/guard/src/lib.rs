//! The guard every edge function goes through.
//!
//! A request proves who it is by one of the schemes below; a successful check returns a
//! *principal*, a value whose fields are private to this crate. A handler that needs a caller
//! takes the principal as an argument, so it cannot run without the check having passed.
//! Every failure is a [`Refusal`]: one JSON shape, a stable code, the right HTTP status.

mod bearer;
mod cron;
mod jwt;
mod paddle;
mod principal;
mod refusal;

pub use cron::CronSecrets;
pub use jwt::{is_uuid, JwtConfig, SupabaseJwtVerifier};
pub use paddle::{PaddleVerifier, PADDLE_DEFAULT_TOLERANCE_SECS};
pub use principal::{
    CronCaller, CronTrigger, DbPrincipal, DbRole, User, VerifiedWebhook, WebhookProvider,
};
pub use refusal::Refusal;
