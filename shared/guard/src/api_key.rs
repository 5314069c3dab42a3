//! API keys for server-to-server callers.
//!
//! Format: `rlse_<prefix>_<secret>`: `prefix` is 12 lower-case hex digits (6 random bytes, public,
//! the lookup key), `secret` 64 lower-case hex digits (32 random bytes). Only the SHA-256 of the
//! whole key is stored, never the key: a leaked table does not leak keys. Callers send it as
//! `X-Api-Key: rlse_…`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::principal::ApiKeyClient;
use crate::Refusal;

pub const API_KEY_SCHEME: &str = "rlse";
const PREFIX_HEX_LEN: usize = 12;
const SECRET_HEX_LEN: usize = 64;
/// Random bytes a new key needs: the prefix's, then the secret's.
pub const API_KEY_ENTROPY_BYTES: usize = PREFIX_HEX_LEN / 2 + SECRET_HEX_LEN / 2;

/// A presented key that has the right shape; nothing about it is trusted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedApiKey<'a> {
    prefix: &'a str,
    key: &'a str,
}

/// The row an operator stored for a key (the table is in sql/).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    pub id: String,
    pub workspace_id: String,
    pub prefix: String,
    /// SHA-256 of the whole key text.
    pub key_sha256: [u8; 32],
    pub revoked: bool,
    pub scopes: Vec<String>,
}

impl<'a> PresentedApiKey<'a> {
    /// Parses the `X-Api-Key` header value. Refusals never echo the value.
    pub fn parse(header: Option<&'a str>) -> Result<Self, Refusal> {
        let key = header.map(str::trim).ok_or(Refusal::unauthenticated(
            "missing_credentials",
            "an X-Api-Key header is required",
        ))?;
        let malformed = Refusal::unauthenticated(
            "malformed_api_key",
            "the API key is not of the form rlse_<prefix>_<secret>",
        );
        let mut parts = key.split('_');
        let (Some(API_KEY_SCHEME), Some(prefix), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed);
        };
        let lower_hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !lower_hex(prefix, PREFIX_HEX_LEN) || !lower_hex(secret, SECRET_HEX_LEN) {
            return Err(malformed);
        }
        Ok(Self { prefix, key })
    }

    /// The public part, to look the stored key up by.
    pub fn prefix(&self) -> &'a str {
        self.prefix
    }

    /// Checks the key against the row found by its prefix (`None`: no such row) and that the
    /// key grants `required_scope`, if the route names one.
    pub fn verify(
        &self,
        stored: Option<&StoredApiKey>,
        required_scope: Option<&str>,
    ) -> Result<ApiKeyClient, Refusal> {
        let invalid = Refusal::unauthenticated("invalid_api_key", "the API key is not valid");
        let stored = stored.ok_or(invalid.clone())?;
        let matches = stored.prefix.as_bytes().ct_eq(self.prefix.as_bytes())
            & hash_api_key(self.key).ct_eq(&stored.key_sha256);
        if !bool::from(matches) {
            return Err(invalid);
        }
        if stored.revoked {
            return Err(Refusal::unauthenticated(
                "revoked_api_key",
                "the API key has been revoked",
            ));
        }
        if let Some(scope) = required_scope {
            if !stored.scopes.iter().any(|s| s == scope) {
                return Err(Refusal::forbidden(
                    "insufficient_scope",
                    "the API key does not grant this action",
                ));
            }
        }
        Ok(ApiKeyClient::new(
            stored.id.clone(),
            stored.workspace_id.clone(),
            stored.scopes.clone(),
        ))
    }
}

/// What is stored for a key: SHA-256 of the whole key text.
pub fn hash_api_key(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A newly minted key: give `key` to the caller once, store `prefix` and `key_sha256_hex`.
#[derive(Debug)]
pub struct MintedApiKey {
    pub key: String,
    pub prefix: String,
    pub key_sha256_hex: String,
}

/// Mints a key from `entropy` (from the OS's CSPRNG: see `cargo run -p edge-guard --example
/// mint-api-key`).
pub fn mint_api_key(entropy: &[u8; API_KEY_ENTROPY_BYTES]) -> MintedApiKey {
    let (prefix, secret) = entropy.split_at(PREFIX_HEX_LEN / 2);
    let prefix = hex::encode(prefix);
    let key = format!("{API_KEY_SCHEME}_{prefix}_{}", hex::encode(secret));
    MintedApiKey {
        key_sha256_hex: hex::encode(hash_api_key(&key)),
        key,
        prefix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "a0000000-0000-4000-8000-00000000000a";

    fn minted() -> MintedApiKey {
        // 0xab: hex letters, so case matters.
        mint_api_key(&[0xab; API_KEY_ENTROPY_BYTES])
    }

    fn stored(minted: &MintedApiKey) -> StoredApiKey {
        StoredApiKey {
            id: "key-1".into(),
            workspace_id: WS.into(),
            prefix: minted.prefix.clone(),
            key_sha256: hex::decode(&minted.key_sha256_hex)
                .unwrap()
                .try_into()
                .unwrap(),
            revoked: false,
            scopes: vec!["notes:read".into()],
        }
    }

    #[test]
    fn a_minted_key_parses_gives_its_prefix_and_verifies() {
        let minted = minted();
        assert_eq!(minted.key.len(), 5 + 12 + 1 + 64);
        let presented = PresentedApiKey::parse(Some(&minted.key)).unwrap();
        assert_eq!(presented.prefix(), minted.prefix);
        let client = presented
            .verify(Some(&stored(&minted)), Some("notes:read"))
            .unwrap();
        assert_eq!((client.key_id(), client.workspace_id()), ("key-1", WS));
    }

    #[test]
    fn refuses_a_wrong_secret_under_a_known_prefix() {
        let minted = minted();
        let last = if minted.key.ends_with('0') { "1" } else { "0" };
        let forged = format!("{}{last}", &minted.key[..minted.key.len() - 1]);
        let refusal = PresentedApiKey::parse(Some(&forged))
            .unwrap()
            .verify(Some(&stored(&minted)), None)
            .unwrap_err();
        assert_eq!((refusal.status, refusal.code), (401, "invalid_api_key"));
        let no_row = PresentedApiKey::parse(Some(&minted.key))
            .unwrap()
            .verify(None, None)
            .unwrap_err();
        assert_eq!(no_row.code, "invalid_api_key");
    }

    #[test]
    fn refuses_a_row_of_another_prefix() {
        let minted = minted();
        let other = mint_api_key(&[9u8; API_KEY_ENTROPY_BYTES]);
        let refusal = PresentedApiKey::parse(Some(&minted.key))
            .unwrap()
            .verify(Some(&stored(&other)), None)
            .unwrap_err();
        assert_eq!(refusal.code, "invalid_api_key");
    }

    #[test]
    fn refuses_revoked_keys_and_missing_scopes() {
        let minted = minted();
        let presented = PresentedApiKey::parse(Some(&minted.key)).unwrap();
        let mut row = stored(&minted);
        assert_eq!(
            presented
                .verify(Some(&row), Some("billing:write"))
                .unwrap_err(),
            Refusal::forbidden(
                "insufficient_scope",
                "the API key does not grant this action"
            )
        );
        row.revoked = true;
        assert_eq!(
            presented.verify(Some(&row), None).unwrap_err().code,
            "revoked_api_key"
        );
    }

    #[test]
    fn refuses_malformed_keys_without_echoing_them() {
        let minted = minted();
        let upper = minted.key.to_uppercase().replacen("RLSE", "rlse", 1);
        let extra = format!("{}_x", minted.key);
        let other_scheme = minted.key.replacen("rlse", "sk", 1);
        for bad in [
            "",
            "rlse",
            "rlse__",
            "rlse_abc_def",
            upper.as_str(),
            extra.as_str(),
            other_scheme.as_str(),
            "rlse_\u{0}\u{ff}_zz",
        ] {
            let refusal = PresentedApiKey::parse(Some(bad)).unwrap_err();
            assert_eq!(
                (refusal.status, refusal.code),
                (401, "malformed_api_key"),
                "{bad:?}"
            );
            // Keys (long values) never come back in the answer.
            assert!(bad.len() < 20 || !refusal.to_json().contains(bad));
        }
        assert_eq!(
            PresentedApiKey::parse(None).unwrap_err().code,
            "missing_credentials"
        );
    }

    #[test]
    fn only_the_hash_is_stored() {
        let minted = minted();
        assert_eq!(minted.key_sha256_hex.len(), 64);
        assert!(!minted.key.contains(&minted.key_sha256_hex));
        assert_eq!(
            hex::encode(hash_api_key(&minted.key)),
            minted.key_sha256_hex
        );
    }
}
