//! Supabase access tokens: HS256 with the project's JWT secret (legacy), or ES256/RS256 with a
//! key from the project's JWKS, chosen by `kid`. The header's `alg` must be the algorithm of the
//! key that verifies it: `none`, other algorithms and HS/RS confusion are refused.

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use jwt_simple::prelude::*;
use jwt_simple::JWTError;
use serde_json::{Map, Value};

use crate::bearer::bearer_token;
use crate::jwks::JwkSet;
use crate::jws::{
    signed_parts, CheckedSignature, Es256, JwsAlgorithm, JwsSignatureCheck, PureRustSignatures,
    Rs256,
};
use crate::principal::{Aal, DbRole, TenantUser, User};
use crate::requirement::UserRequirement;
use crate::Refusal;

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// Clock skew tolerated on `exp`, `nbf` and `iat` (PostgREST allows 30 s).
    pub leeway_secs: u64,
    /// Required `aud`, if any (Supabase user tokens carry `authenticated`).
    pub audience: Option<String>,
    /// Required `iss`, if any (`https://<ref>.supabase.co/auth/v1` in the cloud).
    pub issuer: Option<String>,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            leeway_secs: 30,
            audience: Some("authenticated".into()),
            issuer: None,
        }
    }
}

/// Longest token accepted: real Supabase tokens are about 1 KB; a cap bounds the work per request.
pub const MAX_TOKEN_LENGTH: usize = 8 * 1024;

/// The key a token asks for, read from its (not yet trusted) header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningKey {
    /// HS256: the project's JWT secret.
    ProjectSecret,
    /// ES256/RS256: the JWKS key with this `kid`.
    Jwks { kid: String },
}

impl SigningKey {
    /// Reads only the header: which key verifying `token` needs (the adapter fetches the JWKS
    /// first when it is a JWKS key). Anything but HS256, ES256 and RS256 is refused here.
    pub fn of(token: &str) -> Result<Self, Refusal> {
        Self::with_algorithm(token).map(|(key, _)| key)
    }

    /// As [`Self::of`], with the JWKS algorithm the header names (`None` for HS256).
    fn with_algorithm(token: &str) -> Result<(Self, Option<JwsAlgorithm>), Refusal> {
        if token.len() > MAX_TOKEN_LENGTH {
            return Err(invalid_token());
        }
        let metadata = Token::decode_metadata(token).map_err(|_| invalid_token())?;
        let algorithm = match metadata.algorithm() {
            "HS256" => return Ok((SigningKey::ProjectSecret, None)),
            "ES256" => JwsAlgorithm::Es256,
            "RS256" => JwsAlgorithm::Rs256,
            _ => {
                return Err(Refusal::unauthenticated(
                    "unsupported_algorithm",
                    "the token's algorithm is not accepted (HS256, ES256, RS256)",
                ))
            }
        };
        let kid = metadata.key_id().ok_or(unknown_key())?.to_owned();
        Ok((SigningKey::Jwks { kid }, Some(algorithm)))
    }

    /// As [`Self::of`], for the token of an `Authorization: Bearer` header.
    pub fn of_authorization(authorization: Option<&str>) -> Result<Self, Refusal> {
        Self::of(bearer_token(authorization)?)
    }
}

pub struct SupabaseJwtVerifier {
    project_secret: Option<HS256Key>,
    config: JwtConfig,
}

impl SupabaseJwtVerifier {
    /// `project_secret`: the legacy HS256 secret, if the project still accepts HS256 tokens.
    pub fn new(project_secret: Option<&[u8]>, config: &JwtConfig) -> Self {
        Self {
            project_secret: project_secret.map(HS256Key::from_bytes),
            config: config.clone(),
        }
    }

    pub fn hs256(secret: &[u8], config: &JwtConfig) -> Self {
        Self::new(Some(secret), config)
    }

    /// The caller behind an `Authorization: Bearer <access token>` header, if it meets
    /// `requirement` at unix time `now`. `jwks`: the project's current keys, for ES256/RS256,
    /// whose signatures `signatures` checks (Web Crypto in a worker).
    pub async fn verify_user_with(
        &self,
        authorization: Option<&str>,
        jwks: Option<&JwkSet>,
        requirement: &UserRequirement,
        now: u64,
        signatures: &impl JwsSignatureCheck,
    ) -> Result<User, Refusal> {
        let token = bearer_token(authorization)?;
        let claims = self.verified_claims(token, jwks, now, signatures).await?;
        user_from_claims(claims, token, requirement, now)
    }

    /// As [`Self::verify_user_with`], acting for the workspace the request names (or the one in
    /// `app_metadata`).
    pub async fn verify_tenant_user_with(
        &self,
        authorization: Option<&str>,
        jwks: Option<&JwkSet>,
        requirement: &UserRequirement,
        requested_workspace: Option<&str>,
        now: u64,
        signatures: &impl JwsSignatureCheck,
    ) -> Result<TenantUser, Refusal> {
        let user = self
            .verify_user_with(authorization, jwks, requirement, now, signatures)
            .await?;
        TenantUser::new(user, requested_workspace)
    }

    /// [`Self::verify_user_with`] with the pure-Rust signature check (native callers).
    pub fn verify_user(
        &self,
        authorization: Option<&str>,
        jwks: Option<&JwkSet>,
        requirement: &UserRequirement,
        now: u64,
    ) -> Result<User, Refusal> {
        completed(self.verify_user_with(authorization, jwks, requirement, now, &PureRustSignatures))
    }

    /// A bare token (no `Bearer `), with the pure-Rust signature check (native callers).
    pub fn verify_user_token(
        &self,
        token: &str,
        jwks: Option<&JwkSet>,
        requirement: &UserRequirement,
        now: u64,
    ) -> Result<User, Refusal> {
        let claims = completed(self.verified_claims(token, jwks, now, &PureRustSignatures))?;
        user_from_claims(claims, token, requirement, now)
    }

    async fn verified_claims(
        &self,
        token: &str,
        jwks: Option<&JwkSet>,
        now: u64,
        signatures: &impl JwsSignatureCheck,
    ) -> Result<JWTClaims<Map<String, Value>>, Refusal> {
        let options = Some(self.options(now));
        let verified = match SigningKey::with_algorithm(token)? {
            (SigningKey::ProjectSecret, _) => self
                .project_secret
                .as_ref()
                .ok_or(Refusal::unauthenticated(
                    "unsupported_algorithm",
                    "this project does not accept HS256 tokens",
                ))?
                .verify_token::<Map<String, Value>>(token, options),
            (SigningKey::Jwks { kid }, algorithm) => {
                let key = jwks.and_then(|keys| keys.get(&kid)).ok_or(unknown_key())?;
                // A key verifies only its own algorithm (no RS256 header on an EC key).
                if algorithm != Some(key.algorithm()) {
                    return Err(invalid_token());
                }
                let (signing_input, signature) = signed_parts(token).ok_or(invalid_token())?;
                if !signatures
                    .verify(key, signing_input.as_bytes(), &signature)
                    .await
                {
                    return Err(invalid_token());
                }
                // The signature holds; the header and claims get jwt-simple's checks.
                match key.algorithm() {
                    JwsAlgorithm::Es256 => CheckedSignature::<Es256>::new(signing_input, signature)
                        .verify_token(token, options),
                    JwsAlgorithm::Rs256 => CheckedSignature::<Rs256>::new(signing_input, signature)
                        .verify_token(token, options),
                }
            }
        };
        verified.map_err(|e| refusal_for(&e))
    }

    fn options(&self, now: u64) -> VerificationOptions {
        let set = |v: &Option<String>| v.as_ref().map(|s| HashSet::from([s.clone()]));
        VerificationOptions {
            time_tolerance: Some(Duration::from_secs(self.config.leeway_secs)),
            allowed_audiences: set(&self.config.audience),
            allowed_issuers: set(&self.config.issuer),
            max_token_length: Some(MAX_TOKEN_LENGTH),
            artificial_time: Some(Duration::from_secs(now)),
            ..VerificationOptions::default()
        }
    }
}

/// The checks on verified claims: expiry present, role accepted by the route, subject a uuid,
/// assurance level and sign-in age as the route requires.
fn user_from_claims(
    claims: JWTClaims<Map<String, Value>>,
    token: &str,
    requirement: &UserRequirement,
    now: u64,
) -> Result<User, Refusal> {
    if claims.expires_at.is_none() {
        return Err(Refusal::unauthenticated(
            "invalid_token",
            "the token has no expiry",
        ));
    }
    let role = claims
        .custom
        .get("role")
        .and_then(Value::as_str)
        .and_then(DbRole::from_claim)
        .ok_or(Refusal::unauthenticated(
            "invalid_token",
            "the token's role is not one this project knows",
        ))?;
    if !requirement.roles.contains(&role) {
        return Err(match role {
            DbRole::Anon => Refusal::unauthenticated(
                "user_required",
                "sign in: this endpoint needs a user's token",
            ),
            _ => Refusal::forbidden(
                "user_required",
                "this endpoint does not accept this kind of key",
            ),
        });
    }
    // `auth.uid()` casts `sub` to uuid: anything else would raise inside Postgres.
    let id = match claims.subject.as_deref() {
        Some(sub) if is_uuid(sub) => Some(sub.to_owned()),
        Some(_) => return Err(not_a_user_id()),
        None if role == DbRole::Authenticated => return Err(not_a_user_id()),
        None => None,
    };
    let aal = match claims.custom.get("aal").and_then(Value::as_str) {
        Some("aal2") => Aal::Aal2,
        _ => Aal::Aal1,
    };
    if requirement.minimum_aal() == Aal::Aal2 && aal != Aal::Aal2 {
        return Err(Refusal::forbidden(
            "insufficient_aal",
            "this action needs a second factor (aal2) in this session",
        ));
    }
    let signed_in_at = newest_sign_in(&claims.custom);
    if let Some(max_age) = requirement.max_sign_in_age_secs {
        let recent = signed_in_at.is_some_and(|at| now.saturating_sub(at) <= max_age);
        if !recent {
            return Err(Refusal::forbidden(
                "reauthentication_required",
                "this action needs a recent sign-in: sign in again",
            ));
        }
    }
    let session_id = claims
        .custom
        .get("session_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let claims_json = serde_json::to_value(&claims).map_err(|_| {
        Refusal::unauthenticated("invalid_token", "the token's claims could not be read")
    })?;
    Ok(User::from_verified_claims(
        id,
        role,
        aal,
        session_id,
        signed_in_at,
        claims_json,
        token,
    ))
}

/// The newest `amr[].timestamp` (GoTrue lists them newest first; take the maximum anyway).
fn newest_sign_in(custom: &Map<String, Value>) -> Option<u64> {
    custom
        .get("amr")?
        .as_array()?
        .iter()
        .filter_map(|entry| entry.get("timestamp")?.as_u64())
        .max()
}

fn invalid_token() -> Refusal {
    Refusal::unauthenticated("invalid_token", "the token is invalid")
}

fn unknown_key() -> Refusal {
    Refusal::unauthenticated(
        "unknown_signing_key",
        "the token names no signing key this project publishes",
    )
}

fn not_a_user_id() -> Refusal {
    Refusal::unauthenticated("invalid_token", "the token's subject is not a user id")
}

fn refusal_for(error: &jwt_simple::Error) -> Refusal {
    match error.downcast_ref::<JWTError>() {
        Some(JWTError::TokenHasExpired) => {
            Refusal::unauthenticated("token_expired", "the token has expired")
        }
        Some(JWTError::TokenNotValidYet | JWTError::ClockDrift) => {
            Refusal::unauthenticated("token_not_yet_valid", "the token is not valid yet")
        }
        _ => invalid_token(),
    }
}

/// Runs a check whose signature verification never waits ([`PureRustSignatures`]) to its end.
pub(crate) fn completed<T>(check: impl Future<Output = T>) -> T {
    match pin!(check).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => unreachable!("the pure-Rust signature check never waits"),
    }
}

/// Canonical textual uuid (8-4-4-4-12 hex): what Postgres' `::uuid` cast accepts without raising.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwks::tests::document;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;

    const SECRET: &[u8] = b"test-secret-with-at-least-32-characters!!";
    const USER: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const NOW: u64 = 1_800_000_000;
    const SIGNED_IN: UserRequirement = UserRequirement::SIGNED_IN;

    fn verifier() -> SupabaseJwtVerifier {
        SupabaseJwtVerifier::hs256(SECRET, &JwtConfig::default())
    }

    fn custom(role: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("role".into(), role.into());
        m.insert("email".into(), "a@example.com".into());
        m
    }

    /// GoTrue-shaped claims issued at NOW, valid 5 minutes.
    fn claims_for(role: &str) -> JWTClaims<Map<String, Value>> {
        let mut claims = Claims::with_custom_claims(custom(role), Duration::from_mins(5))
            .with_audience("authenticated");
        claims.issued_at = Some(Duration::from_secs(NOW));
        claims.expires_at = Some(Duration::from_secs(NOW + 300));
        claims
    }

    fn user_claims() -> JWTClaims<Map<String, Value>> {
        claims_for("authenticated").with_subject(USER)
    }

    fn sign(claims: JWTClaims<Map<String, Value>>) -> String {
        HS256Key::from_bytes(SECRET).authenticate(claims).unwrap()
    }

    fn verify(token: &str) -> Result<User, Refusal> {
        verifier().verify_user_token(token, None, &SIGNED_IN, NOW)
    }

    /// The refusal code for a token with these claims, signed with the right secret.
    fn refusal_code(claims: JWTClaims<Map<String, Value>>) -> &'static str {
        verify(&sign(claims)).unwrap_err().code
    }

    /// An ES256 key pair with `kid`, its JWKS, and a verifier that trusts only the JWKS.
    fn es256(kid: &str) -> (ES256KeyPair, JwkSet) {
        let key = ES256KeyPair::generate().with_key_id(kid);
        let set = JwkSet::parse(&document(&[&key], &[])).unwrap();
        (key, set)
    }

    fn jwks_only() -> SupabaseJwtVerifier {
        SupabaseJwtVerifier::new(None, &JwtConfig::default())
    }

    #[test]
    fn accepts_a_valid_user_token_and_keeps_its_claims() {
        let user = verifier()
            .verify_user(
                Some(&format!("Bearer {}", sign(user_claims()))),
                None,
                &SIGNED_IN,
                NOW,
            )
            .unwrap();
        assert_eq!(user.id(), Some(USER));
        assert_eq!(user.aal(), Aal::Aal1);
        let claims = crate::DbPrincipal::jwt_claims(&user);
        assert_eq!(claims["sub"], USER);
        assert_eq!(claims["role"], "authenticated");
        assert_eq!(claims["email"], "a@example.com");
        assert!(claims["exp"].is_u64());
    }

    #[test]
    fn keeps_the_verified_token_for_forwarding_but_never_prints_it() {
        let token = sign(user_claims());
        let user = verify(&token).unwrap();
        assert_eq!(user.access_token(), token);
        let printed = format!("{user:?}");
        assert!(
            !printed.contains(&token),
            "Debug leaks the token: {printed}"
        );
        assert!(printed.contains("withheld"));
    }

    #[test]
    fn refuses_an_expired_token_beyond_the_leeway_only() {
        let mut claims = user_claims();
        claims.expires_at = Some(Duration::from_secs(NOW - 31));
        assert_eq!(refusal_code(claims), "token_expired");
        let mut claims = user_claims();
        claims.expires_at = Some(Duration::from_secs(NOW - 10));
        assert!(verify(&sign(claims)).is_ok());
    }

    #[test]
    fn leeway_is_configurable() {
        let strict = SupabaseJwtVerifier::hs256(
            SECRET,
            &JwtConfig {
                leeway_secs: 0,
                ..JwtConfig::default()
            },
        );
        let mut claims = user_claims();
        claims.expires_at = Some(Duration::from_secs(NOW - 1));
        let refusal = strict
            .verify_user_token(&sign(claims), None, &SIGNED_IN, NOW)
            .unwrap_err();
        assert_eq!(refusal.code, "token_expired");
    }

    #[test]
    fn refuses_a_token_not_yet_valid() {
        let claims = user_claims().invalid_before(Duration::from_secs(NOW + 300));
        assert_eq!(refusal_code(claims), "token_not_yet_valid");
    }

    #[test]
    fn refuses_a_token_without_expiry() {
        let mut claims = user_claims();
        claims.expires_at = None;
        assert_eq!(refusal_code(claims), "invalid_token");
    }

    #[test]
    fn refuses_wrong_audience_and_wrong_issuer() {
        let wrong_aud = claims_for("authenticated")
            .with_subject(USER)
            .with_audiences(HashSet::from(["somebody-else".to_owned()]));
        assert_eq!(refusal_code(wrong_aud), "invalid_token");

        let with_issuer = SupabaseJwtVerifier::hs256(
            SECRET,
            &JwtConfig {
                issuer: Some("https://ref.supabase.co/auth/v1".into()),
                ..JwtConfig::default()
            },
        );
        let right = sign(user_claims().with_issuer("https://ref.supabase.co/auth/v1"));
        assert!(with_issuer
            .verify_user_token(&right, None, &SIGNED_IN, NOW)
            .is_ok());
        for token in [
            sign(user_claims().with_issuer("https://evil.supabase.co/auth/v1")),
            sign(user_claims()),
        ] {
            let refusal = with_issuer
                .verify_user_token(&token, None, &SIGNED_IN, NOW)
                .unwrap_err();
            assert_eq!(refusal.code, "invalid_token");
        }
    }

    #[test]
    fn refuses_a_token_signed_with_another_secret() {
        let forged = HS256Key::from_bytes(b"attacker-secret-attacker-secret-attacker")
            .authenticate(user_claims())
            .unwrap();
        assert_eq!(verify(&forged).unwrap_err().code, "invalid_token");
    }

    #[test]
    fn refuses_a_tampered_payload() {
        let token = sign(user_claims());
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
        payload["sub"] = "bbbbbbbb-0000-4000-8000-000000000002".into();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(payload.to_string()),
            parts[2]
        );
        assert_eq!(verify(&tampered).unwrap_err().code, "invalid_token");
    }

    #[test]
    fn refuses_alg_none_and_other_algorithms() {
        let payload = B64.encode(serde_json::to_vec(&user_claims()).unwrap());
        for alg in ["none", "None", "HS512", "PS256", "EdDSA"] {
            let header = B64.encode(format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"k"}}"#));
            for unsigned in [
                format!("{header}.{payload}."),
                format!("{header}.{payload}"),
            ] {
                assert_eq!(
                    verify(&unsigned).unwrap_err().code,
                    "unsupported_algorithm",
                    "{alg}"
                );
            }
        }
    }

    #[test]
    fn refuses_roles_the_route_does_not_accept() {
        let refusal = verify(&sign(claims_for("anon"))).unwrap_err();
        assert_eq!((refusal.status, refusal.code), (401, "user_required"));
        let refusal = verify(&sign(claims_for("service_role"))).unwrap_err();
        assert_eq!((refusal.status, refusal.code), (403, "user_required"));
        assert_eq!(
            refusal_code(claims_for("postgres").with_subject(USER)),
            "invalid_token"
        );
        // A route that declares it accepts the anon key gets a caller without a user id.
        let anon_ok = SIGNED_IN.with_roles(&[DbRole::Anon, DbRole::Authenticated]);
        let anon = verifier()
            .verify_user_token(&sign(claims_for("anon")), None, &anon_ok, NOW)
            .unwrap();
        assert_eq!((anon.role(), anon.id()), (DbRole::Anon, None));
    }

    #[test]
    fn refuses_a_subject_that_is_not_a_uuid() {
        let claims = claims_for("authenticated").with_subject("'; drop table notes; --");
        assert_eq!(refusal_code(claims), "invalid_token");
        assert_eq!(refusal_code(claims_for("authenticated")), "invalid_token");
    }

    #[test]
    fn aal2_routes_refuse_aal1_sessions() {
        let aal2_route = SIGNED_IN.with_aal2();
        let aal1 = sign(user_claims());
        let refusal = verifier()
            .verify_user_token(&aal1, None, &aal2_route, NOW)
            .unwrap_err();
        assert_eq!((refusal.status, refusal.code), (403, "insufficient_aal"));
        let mut claims = user_claims();
        claims.custom.insert("aal".into(), "aal2".into());
        let user = verifier()
            .verify_user_token(&sign(claims), None, &aal2_route, NOW)
            .unwrap();
        assert_eq!(user.aal(), Aal::Aal2);
    }

    #[test]
    fn sensitive_routes_need_a_recent_sign_in_from_the_newest_amr() {
        let route = SIGNED_IN.with_recent_sign_in(300);
        let with_amr = |amr: Value| {
            let mut claims = user_claims();
            claims.custom.insert("amr".into(), amr);
            sign(claims)
        };
        let check = |token: &str| verifier().verify_user_token(token, None, &route, NOW);
        // Newest first as GoTrue writes it, and out of order: the newest counts either way.
        let recent = serde_json::json!([
            {"method": "totp", "timestamp": NOW - 60},
            {"method": "password", "timestamp": NOW - 86_400}
        ]);
        assert_eq!(
            check(&with_amr(recent)).unwrap().signed_in_at(),
            Some(NOW - 60)
        );
        let shuffled = serde_json::json!([
            {"method": "password", "timestamp": NOW - 86_400},
            {"method": "totp", "timestamp": NOW - 60}
        ]);
        assert!(check(&with_amr(shuffled)).is_ok());
        let stale = serde_json::json!([{"method": "password", "timestamp": NOW - 301}]);
        for token in [with_amr(stale), sign(user_claims())] {
            let refusal = check(&token).unwrap_err();
            assert_eq!(
                (refusal.status, refusal.code),
                (403, "reauthentication_required")
            );
        }
    }

    #[test]
    fn es256_and_rs256_tokens_verify_with_the_jwks_key_named_by_kid() {
        let es = ES256KeyPair::generate().with_key_id("es-1");
        let rs = RS256KeyPair::generate(2048).unwrap().with_key_id("rs-1");
        let set = JwkSet::parse(&document(&[&es], &[&rs])).unwrap();
        let verifier = jwks_only();
        for token in [
            es.sign(user_claims()).unwrap(),
            rs.sign(user_claims()).unwrap(),
        ] {
            let user = verifier
                .verify_user_token(&token, Some(&set), &SIGNED_IN, NOW)
                .unwrap();
            assert_eq!(user.id(), Some(USER));
        }
    }

    #[test]
    fn rotation_accepts_old_and_new_keys_and_refuses_removed_ones() {
        let old = ES256KeyPair::generate().with_key_id("old");
        let new = ES256KeyPair::generate().with_key_id("new");
        let during = JwkSet::parse(&document(&[&old, &new], &[])).unwrap();
        let after = JwkSet::parse(&document(&[&new], &[])).unwrap();
        let verifier = jwks_only();
        let old_token = old.sign(user_claims()).unwrap();
        let new_token = new.sign(user_claims()).unwrap();
        for token in [&old_token, &new_token] {
            assert!(verifier
                .verify_user_token(token, Some(&during), &SIGNED_IN, NOW)
                .is_ok());
        }
        let refusal = verifier
            .verify_user_token(&old_token, Some(&after), &SIGNED_IN, NOW)
            .unwrap_err();
        assert_eq!(refusal.code, "unknown_signing_key");
    }

    #[test]
    fn refuses_unknown_and_missing_kid() {
        let (_, set) = es256("published");
        let stranger = ES256KeyPair::generate().with_key_id("unpublished");
        let anonymous = ES256KeyPair::generate();
        for token in [
            stranger.sign(user_claims()).unwrap(),
            anonymous.sign(user_claims()).unwrap(),
        ] {
            let refusal = jwks_only()
                .verify_user_token(&token, Some(&set), &SIGNED_IN, NOW)
                .unwrap_err();
            assert_eq!(refusal.code, "unknown_signing_key");
        }
    }

    #[test]
    fn refuses_a_token_signed_by_another_key_under_a_published_kid() {
        let (_, set) = es256("k");
        let impostor = ES256KeyPair::generate().with_key_id("k");
        let refusal = jwks_only()
            .verify_user_token(
                &impostor.sign(user_claims()).unwrap(),
                Some(&set),
                &SIGNED_IN,
                NOW,
            )
            .unwrap_err();
        assert_eq!(refusal.code, "invalid_token");
    }

    #[test]
    fn refuses_algorithm_confusion() {
        // HS256 signed with the published RSA public key (PEM and JWK text) as the HMAC secret,
        // under the RSA key's kid: it must never be checked against the RSA key.
        let rs = RS256KeyPair::generate(2048).unwrap().with_key_id("rs");
        let set = JwkSet::parse(&document(&[], &[&rs])).unwrap();
        let public_pem = rs.public_key().to_pem().unwrap();
        let public_jwk = rs.public_key().to_jwk();
        for secret in [public_pem.as_bytes(), public_jwk.as_bytes()] {
            let forged = HS256Key::from_bytes(secret)
                .with_key_id("rs")
                .authenticate(user_claims())
                .unwrap();
            // With an HS256 project secret configured: checked against that secret, fails.
            let refusal = verifier()
                .verify_user_token(&forged, Some(&set), &SIGNED_IN, NOW)
                .unwrap_err();
            assert_eq!(refusal.code, "invalid_token");
            // JWKS-only project: HS256 is not accepted at all.
            let refusal = jwks_only()
                .verify_user_token(&forged, Some(&set), &SIGNED_IN, NOW)
                .unwrap_err();
            assert_eq!(refusal.code, "unsupported_algorithm");
        }
        // An ES256 token whose kid names the RSA key, and an RS256 header on the EC key.
        let es = ES256KeyPair::generate().with_key_id("rs");
        let refusal = jwks_only()
            .verify_user_token(
                &es.sign(user_claims()).unwrap(),
                Some(&set),
                &SIGNED_IN,
                NOW,
            )
            .unwrap_err();
        assert_eq!(refusal.code, "invalid_token");
    }

    #[test]
    fn es256_tokens_are_checked_for_expiry_audience_and_requirements_too() {
        let (key, set) = es256("k");
        let check = |claims: JWTClaims<Map<String, Value>>, req: &UserRequirement| {
            jwks_only()
                .verify_user_token(&key.sign(claims).unwrap(), Some(&set), req, NOW)
                .unwrap_err()
                .code
        };
        let mut expired = user_claims();
        expired.expires_at = Some(Duration::from_secs(NOW - 60));
        assert_eq!(check(expired, &SIGNED_IN), "token_expired");
        let wrong_aud = claims_for("authenticated")
            .with_subject(USER)
            .with_audiences(HashSet::from(["other".to_owned()]));
        assert_eq!(check(wrong_aud, &SIGNED_IN), "invalid_token");
        assert_eq!(
            check(user_claims(), &SIGNED_IN.with_aal2()),
            "insufficient_aal"
        );
    }

    /// A signature check that answers `self.0` whatever it is asked.
    struct Always(bool);

    impl JwsSignatureCheck for Always {
        fn verify(&self, _: &crate::JwksKey, _: &[u8], _: &[u8]) -> impl Future<Output = bool> {
            std::future::ready(self.0)
        }
    }

    #[test]
    fn the_signature_check_decides_the_signature_and_nothing_else() {
        let (key, set) = es256("k");
        let check = |token: &str, verdict: bool| {
            completed(jwks_only().verify_user_with(
                Some(&format!("Bearer {token}")),
                Some(&set),
                &SIGNED_IN,
                NOW,
                &Always(verdict),
            ))
        };
        let valid = key.sign(user_claims()).unwrap();
        assert!(check(&valid, true).is_ok());
        assert_eq!(check(&valid, false).unwrap_err().code, "invalid_token");
        // An accepted signature excuses nothing else: expiry, audience, the header's algorithm.
        let mut expired = user_claims();
        expired.expires_at = Some(Duration::from_secs(NOW - 60));
        assert_eq!(
            check(&key.sign(expired).unwrap(), true).unwrap_err().code,
            "token_expired"
        );
        let wrong_aud = claims_for("authenticated")
            .with_subject(USER)
            .with_audiences(HashSet::from(["other".to_owned()]));
        assert_eq!(
            check(&key.sign(wrong_aud).unwrap(), true).unwrap_err().code,
            "invalid_token"
        );
        let (_, payload_and_signature) = valid.split_once('.').unwrap();
        let rs256_header = B64.encode(r#"{"alg":"RS256","typ":"JWT","kid":"k"}"#);
        assert_eq!(
            check(&format!("{rs256_header}.{payload_and_signature}"), true)
                .unwrap_err()
                .code,
            "invalid_token"
        );
        for malformed in [
            format!("{valid}.extra"),
            format!("{}.!!", valid.rsplit_once('.').unwrap().0),
        ] {
            assert_eq!(check(&malformed, true).unwrap_err().code, "invalid_token");
        }
    }

    #[test]
    fn pure_rust_check_refuses_forged_es256_signatures() {
        let (key, set) = es256("k");
        let valid = key.sign(user_claims()).unwrap();
        let (signing_input, _) = valid.rsplit_once('.').unwrap();
        // r = s = 0 (the "psychic signature"), a DER-encoded shape, and nothing at all.
        for signature in [
            B64.encode([0u8; 64]),
            B64.encode([0x30u8; 70]),
            String::new(),
        ] {
            let refusal = jwks_only()
                .verify_user_token(
                    &format!("{signing_input}.{signature}"),
                    Some(&set),
                    &SIGNED_IN,
                    NOW,
                )
                .unwrap_err();
            assert_eq!(refusal.code, "invalid_token");
        }
    }

    #[test]
    fn tenant_user_comes_from_a_verified_token() {
        let header = format!("Bearer {}", sign(user_claims()));
        let ws = "a0000000-0000-4000-8000-00000000000a";
        let tenant_user = |header: &str| {
            completed(verifier().verify_tenant_user_with(
                Some(header),
                None,
                &SIGNED_IN,
                Some(ws),
                NOW,
                &PureRustSignatures,
            ))
        };
        let tenant = tenant_user(&header).unwrap();
        assert_eq!(
            (tenant.workspace_id(), tenant.user().id()),
            (ws, Some(USER))
        );
        let forged = format!("Bearer {}", sign(user_claims()).replace('.', ".x"));
        assert_eq!(tenant_user(&forged).unwrap_err().status, 401);
    }

    #[test]
    fn malformed_tokens_are_401_and_never_panic() {
        let long = "a".repeat(MAX_TOKEN_LENGTH + 1);
        let valid = sign(user_claims());
        let truncated = &valid[..valid.len() - 10];
        let header_only = valid.split('.').next().unwrap();
        let non_utf8_header = format!("{}.e30.e30", B64.encode([0xff, 0xfe, 0xfd]));
        let not_json = format!("{}.e30.e30", B64.encode("not json"));
        for junk in [
            "",
            ".",
            "..",
            "a.b.c",
            "\u{0}\u{1}.\u{ff}.x",
            "e30.e30.",
            "!!!.@@@.###",
            "eyJhbGciOiJIUzI1NiJ9.%%%.###",
            truncated,
            header_only,
            non_utf8_header.as_str(),
            not_json.as_str(),
            long.as_str(),
        ] {
            let refusal = verify(junk).unwrap_err();
            assert_eq!(refusal.status, 401, "{junk:?}");
            assert!(!refusal.message.contains(junk) || junk.is_empty());
        }
    }
}
