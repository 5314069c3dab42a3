//! Callers for the data-path tests and benchmarks. Principals cannot be built outside the guard
//! crate, so these are minted the only way there is: a real signed token or a real signed
//! delivery, passed through the guard's own verifiers. A dev-dependency only, never shipped.

use edge_guard::{
    JwtConfig, PaddleVerifier, SupabaseJwtVerifier, User, UserRequirement, VerifiedWebhook,
};
use hmac::{Hmac, Mac};
use jwt_simple::prelude::*;
use serde_json::json;
use sha2::Sha256;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A signed-in user `sub` (role `authenticated`, aal1), from an HS256 access token signed with
/// `jwt_secret` and valid for an hour. `User::access_token()` gives the token back.
pub fn signed_in_user(jwt_secret: &str, sub: &str) -> User {
    let custom = json!({"role": "authenticated", "aal": "aal1"})
        .as_object()
        .expect("a JSON object")
        .clone();
    let claims = Claims::with_custom_claims(custom, Duration::from_hours(1))
        .with_subject(sub)
        .with_audience("authenticated");
    let token = HS256Key::from_bytes(jwt_secret.as_bytes())
        .authenticate(claims)
        .expect("HS256 signing cannot fail");
    SupabaseJwtVerifier::hs256(jwt_secret.as_bytes(), &JwtConfig::default())
        .verify_user_token(&token, None, &UserRequirement::SIGNED_IN, unix_now())
        .expect("a freshly signed token verifies")
}

/// A Paddle `transaction.completed` delivery with this event id, signed and verified.
pub fn paddle_delivery(event_id: &str) -> VerifiedWebhook {
    const SECRET: &str = "pdl_ntfset_test";
    let body = json!({"event_id": event_id, "event_type": "transaction.completed",
                      "occurred_at": "2026-11-23T10:00:00Z", "data": {"id": "txn_1"}})
    .to_string();
    let now = 1_800_000_000;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(format!("{now}:{body}").as_bytes());
    let header = format!("ts={now};h1={}", hex::encode(mac.finalize().into_bytes()));
    PaddleVerifier::new([SECRET], 5)
        .expect("one secret")
        .verify(Some(&header), body.as_bytes(), now)
        .expect("a freshly signed delivery verifies")
}
