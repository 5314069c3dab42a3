//! Supabase access tokens signed with the project's HS256 secret.

use std::collections::HashSet;

use jwt_simple::prelude::*;
use jwt_simple::JWTError;
use serde_json::{Map, Value};

use crate::bearer::bearer_token;
use crate::principal::{DbRole, User};
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
const MAX_TOKEN_LENGTH: usize = 8 * 1024;

pub struct SupabaseJwtVerifier {
    key: HS256Key,
    options: VerificationOptions,
}

impl SupabaseJwtVerifier {
    pub fn hs256(secret: &[u8], config: &JwtConfig) -> Self {
        let set = |v: &Option<String>| v.as_ref().map(|s| HashSet::from([s.clone()]));
        let options = VerificationOptions {
            time_tolerance: Some(Duration::from_secs(config.leeway_secs)),
            allowed_audiences: set(&config.audience),
            allowed_issuers: set(&config.issuer),
            max_token_length: Some(MAX_TOKEN_LENGTH),
            ..VerificationOptions::default()
        };
        Self {
            key: HS256Key::from_bytes(secret),
            options,
        }
    }

    /// The signed-in user behind an `Authorization: Bearer <access token>` header.
    pub fn verify_user(&self, authorization: Option<&str>) -> Result<User, Refusal> {
        self.verify_user_token(bearer_token(authorization)?)
    }

    pub fn verify_user_token(&self, token: &str) -> Result<User, Refusal> {
        let claims = self
            .key
            .verify_token::<Map<String, Value>>(token, Some(self.options.clone()))
            .map_err(|e| refusal_for(&e))?;
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
            .and_then(DbRole::from_claim);
        match role {
            Some(DbRole::Authenticated) => {}
            Some(DbRole::Anon) => {
                return Err(Refusal::unauthenticated(
                    "user_required",
                    "sign in: this endpoint needs a user's token",
                ))
            }
            Some(DbRole::ServiceRole) => {
                return Err(Refusal::forbidden(
                    "user_required",
                    "this endpoint needs a user's token, not a service key",
                ))
            }
            None => {
                return Err(Refusal::unauthenticated(
                    "invalid_token",
                    "the token's role is not one this project knows",
                ))
            }
        }
        let id = claims
            .subject
            .as_deref()
            .filter(|sub| is_uuid(sub))
            .ok_or(Refusal::unauthenticated(
                "invalid_token",
                "the token's subject is not a user id",
            ))?
            .to_owned();
        let claims_json = serde_json::to_value(&claims).map_err(|_| {
            Refusal::unauthenticated("invalid_token", "the token's claims could not be read")
        })?;
        Ok(User::from_verified_claims(id, claims_json, token))
    }
}

fn refusal_for(error: &jwt_simple::Error) -> Refusal {
    match error.downcast_ref::<JWTError>() {
        Some(JWTError::TokenHasExpired) => {
            Refusal::unauthenticated("token_expired", "the token has expired")
        }
        Some(JWTError::TokenNotValidYet | JWTError::ClockDrift) => {
            Refusal::unauthenticated("token_not_yet_valid", "the token is not valid yet")
        }
        _ => Refusal::unauthenticated("invalid_token", "the token is invalid"),
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
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;

    const SECRET: &[u8] = b"test-secret-with-at-least-32-characters!!";
    const USER: &str = "aaaaaaaa-0000-4000-8000-000000000001";

    fn verifier() -> SupabaseJwtVerifier {
        SupabaseJwtVerifier::hs256(SECRET, &JwtConfig::default())
    }

    fn custom(role: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("role".into(), role.into());
        m.insert("email".into(), "a@example.com".into());
        m
    }

    fn sign(claims: JWTClaims<Map<String, Value>>) -> String {
        HS256Key::from_bytes(SECRET).authenticate(claims).unwrap()
    }

    /// The refusal code for a token with these claims, signed with the right secret.
    fn refusal_code(claims: JWTClaims<Map<String, Value>>) -> &'static str {
        verifier()
            .verify_user_token(&sign(claims))
            .unwrap_err()
            .code
    }

    fn user_claims() -> JWTClaims<Map<String, Value>> {
        Claims::with_custom_claims(custom("authenticated"), Duration::from_mins(5))
            .with_subject(USER)
            .with_audience("authenticated")
    }

    #[test]
    fn accepts_a_valid_user_token_and_keeps_its_claims() {
        let user = verifier()
            .verify_user(Some(&format!("Bearer {}", sign(user_claims()))))
            .unwrap();
        assert_eq!(user.id(), USER);
        assert_eq!(user.aal(), "aal1");
        let claims = crate::DbPrincipal::jwt_claims(&user);
        assert_eq!(claims["sub"], USER);
        assert_eq!(claims["role"], "authenticated");
        assert_eq!(claims["email"], "a@example.com");
        assert!(claims["exp"].is_u64());
    }

    #[test]
    fn keeps_the_verified_token_for_forwarding_but_never_prints_it() {
        let token = sign(user_claims());
        let user = verifier().verify_user_token(&token).unwrap();
        assert_eq!(user.access_token(), token);
        let printed = format!("{user:?}");
        assert!(
            !printed.contains(&token),
            "Debug leaks the token: {printed}"
        );
        assert!(printed.contains("withheld"));
    }

    #[test]
    fn refuses_an_expired_token_beyond_the_leeway() {
        let mut claims = user_claims();
        claims.expires_at = Some(Clock::now_since_epoch() - Duration::from_secs(31));
        assert_eq!(refusal_code(claims), "token_expired");
    }

    #[test]
    fn accepts_an_expired_token_within_the_leeway() {
        let mut claims = user_claims();
        claims.expires_at = Some(Clock::now_since_epoch() - Duration::from_secs(10));
        assert!(verifier().verify_user_token(&sign(claims)).is_ok());
    }

    #[test]
    fn refuses_a_token_not_yet_valid() {
        let claims =
            user_claims().invalid_before(Clock::now_since_epoch() + Duration::from_mins(5));
        assert_eq!(refusal_code(claims), "token_not_yet_valid");
    }

    #[test]
    fn refuses_a_token_without_expiry() {
        let mut claims = user_claims();
        claims.expires_at = None;
        assert_eq!(refusal_code(claims), "invalid_token");
    }

    #[test]
    fn refuses_a_token_signed_with_another_secret() {
        let forged = HS256Key::from_bytes(b"attacker-secret-attacker-secret-attacker")
            .authenticate(user_claims())
            .unwrap();
        assert_eq!(
            verifier().verify_user_token(&forged).unwrap_err().code,
            "invalid_token"
        );
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
        assert_eq!(
            verifier().verify_user_token(&tampered).unwrap_err().code,
            "invalid_token"
        );
    }

    #[test]
    fn refuses_alg_none() {
        let header = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let token = sign(user_claims());
        let payload = token.split('.').nth(1).unwrap();
        for unsigned in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert_eq!(
                verifier().verify_user_token(&unsigned).unwrap_err().code,
                "invalid_token"
            );
        }
    }

    #[test]
    fn refuses_wrong_audience_and_anon_and_service_tokens() {
        let wrong_aud = Claims::with_custom_claims(custom("authenticated"), Duration::from_mins(5))
            .with_subject(USER)
            .with_audience("somebody-else");
        assert_eq!(refusal_code(wrong_aud), "invalid_token");

        let anon = Claims::with_custom_claims(custom("anon"), Duration::from_mins(5))
            .with_audience("authenticated");
        let refusal = verifier().verify_user_token(&sign(anon)).unwrap_err();
        assert_eq!((refusal.status, refusal.code), (401, "user_required"));

        let service = Claims::with_custom_claims(custom("service_role"), Duration::from_mins(5))
            .with_audience("authenticated");
        let refusal = verifier().verify_user_token(&sign(service)).unwrap_err();
        assert_eq!((refusal.status, refusal.code), (403, "user_required"));

        let admin = Claims::with_custom_claims(custom("postgres"), Duration::from_mins(5))
            .with_subject(USER)
            .with_audience("authenticated");
        assert_eq!(refusal_code(admin), "invalid_token");
    }

    #[test]
    fn refuses_a_subject_that_is_not_a_uuid() {
        let claims = Claims::with_custom_claims(custom("authenticated"), Duration::from_mins(5))
            .with_subject("'; drop table notes; --")
            .with_audience("authenticated");
        assert_eq!(refusal_code(claims), "invalid_token");
    }

    #[test]
    fn garbage_never_panics() {
        let long = "a".repeat(MAX_TOKEN_LENGTH + 1);
        for junk in [
            "",
            ".",
            "..",
            "a.b.c",
            "\u{0}\u{1}.\u{ff}.x",
            "e30.e30.",
            long.as_str(),
        ] {
            assert_eq!(
                verifier().verify_user_token(junk).unwrap_err().status,
                401,
                "{junk:?}"
            );
        }
    }
}
