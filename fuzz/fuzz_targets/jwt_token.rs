//! Any bytes as a bearer token (header, claims, signature all attacker-chosen): the verifier
//! must refuse with a 401 and never panic, whatever the algorithm, `kid` or encoding.
#![no_main]

use edge_guard::{JwkSet, JwtConfig, SigningKey, SupabaseJwtVerifier, UserRequirement};
use libfuzzer_sys::fuzz_target;

const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"eRfSYC8ZIXuEk72sW2cWP-ux8IvYnrtGr9_3E7Qgjso","y":"oKEoJqLlJ8slebyIEOt6qGZ7fR8bX7J5TIt1s6bbfX8"}]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let _ = SigningKey::of(token);
    let keys = JwkSet::parse(JWKS).ok();
    let verifier = SupabaseJwtVerifier::new(Some(b"fuzz-secret"), &JwtConfig::default());
    let header = format!("Bearer {token}");
    if let Err(refusal) = verifier.verify_user(
        Some(&header),
        keys.as_ref(),
        &UserRequirement::SIGNED_IN,
        1_800_000_000,
    ) {
        assert_eq!(refusal.status, 401);
    }
});
