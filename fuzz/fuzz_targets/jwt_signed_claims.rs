//! Attacker-shaped claims behind a VALID signature (e.g. a token minted by a misconfigured
//! issuer): the claim checks (exp, role, sub, aal, amr, aud) must refuse or accept cleanly,
//! never panic, and only accept a uuid `sub` with role `authenticated`.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use edge_guard::{is_uuid, DbRole, JwtConfig, SupabaseJwtVerifier, UserRequirement};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const SECRET: &[u8] = b"fuzz-secret-with-at-least-32-characters";

fuzz_target!(|claims: &[u8]| {
    let signed = format!(
        "{}.{}",
        B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        B64.encode(claims)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(signed.as_bytes());
    let token = format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()));
    let verifier = SupabaseJwtVerifier::hs256(SECRET, &JwtConfig::default());
    let requirement = UserRequirement::SIGNED_IN
        .with_aal2()
        .with_recent_sign_in(300);
    match verifier.verify_user_token(&token, None, &requirement, 1_800_000_000) {
        Ok(user) => {
            assert_eq!(user.role(), DbRole::Authenticated);
            assert!(user.id().is_some_and(is_uuid));
        }
        Err(refusal) => assert!(matches!(refusal.status, 401 | 403)),
    }
});
