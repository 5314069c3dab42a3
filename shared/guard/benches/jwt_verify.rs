//! What verifying a Supabase access token costs natively: HS256 (project secret), ES256 and
//! RS256 (JWKS key by kid), each through the full check (signature, claims, route requirement).
//! `cargo bench -p edge-guard --bench jwt_verify`

use criterion::{criterion_group, criterion_main, Criterion};
use edge_guard::{JwkSet, JwtConfig, SupabaseJwtVerifier, UserRequirement};
use jwt_simple::prelude::*;
use serde_json::{json, Map, Value};

const SECRET: &[u8] = b"bench-secret-with-at-least-32-characters!";
const NOW: u64 = 1_800_000_000;

fn claims() -> JWTClaims<Map<String, Value>> {
    let custom = json!({"role": "authenticated", "aal": "aal1", "email": "a@example.com"});
    let mut claims =
        Claims::with_custom_claims(custom.as_object().unwrap().clone(), Duration::from_mins(5))
            .with_subject("aaaaaaaa-0000-4000-8000-000000000001")
            .with_audience("authenticated");
    claims.issued_at = Some(Duration::from_secs(NOW));
    claims.expires_at = Some(Duration::from_secs(NOW + 300));
    claims
}

fn verify(c: &mut Criterion) {
    let es = ES256KeyPair::generate().with_key_id("es");
    let rs = RS256KeyPair::generate(2048).unwrap().with_key_id("rs");
    let jwks = json!({"keys": [
        serde_json::from_str::<Value>(&es.public_key().to_jwk()).unwrap(),
        serde_json::from_str::<Value>(&rs.public_key().to_jwk()).unwrap(),
    ]});
    let keys = JwkSet::parse(&jwks.to_string()).unwrap();
    let verifier = SupabaseJwtVerifier::new(Some(SECRET), &JwtConfig::default());
    let tokens = [
        (
            "HS256",
            HS256Key::from_bytes(SECRET).authenticate(claims()).unwrap(),
        ),
        ("ES256", es.sign(claims()).unwrap()),
        ("RS256 (2048-bit)", rs.sign(claims()).unwrap()),
    ];
    let mut group = c.benchmark_group("jwt verify");
    for (name, token) in &tokens {
        group.bench_function(*name, |b| {
            b.iter(|| {
                verifier
                    .verify_user_token(
                        std::hint::black_box(token),
                        Some(&keys),
                        &UserRequirement::SIGNED_IN,
                        NOW,
                    )
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
