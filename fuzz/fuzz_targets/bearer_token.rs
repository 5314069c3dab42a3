//! `Authorization: Bearer <token>` (bearer.rs), then the HS256 token behind it.
#![no_main]
mod common;

use edge_guard::{JwtConfig, SupabaseJwtVerifier, UserRequirement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some([authorization]) = common::fields::<1>(data) else {
        return;
    };
    let verifier =
        SupabaseJwtVerifier::hs256(b"fuzz-jwt-secret-with-32-bytes-min", &JwtConfig::default());
    common::assert_refused(verifier.verify_user(
        Some(authorization),
        None,
        &UserRequirement::SIGNED_IN,
        1_800_000_000,
    ));
});
