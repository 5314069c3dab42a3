//! API keys for server-to-server callers.
//!
//! Format: `rlse_<prefix>_<secret>`: `prefix` is 12 lower-case hex digits (6 random bytes, public,
//! the lookup key), `secret` 64 lower-case hex digits (32 random bytes). Only the SHA-256 of the
//! whole key is stored, never the key: a leaked table does not leak keys. Callers send it as
//! `X-Api-Key: rlse_…`.

use crate::principal::ApiKeyClient;
use crate::Refusal;
use sha2::{Digest, Sha256};

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

    /// The caller this key claims to be, for a route that needs `scope`. Only the prefix and
    /// the key's SHA-256 go on: the data path proves them against the `api_keys` table in the
    /// request's own transaction (`private.admit_api_key`), which is the truth about revocation,
    /// expiry, scopes and the key's workspace.
    pub fn caller(&self, scope: &'static str) -> ApiKeyClient {
        ApiKeyClient::new(self.prefix.to_owned(), hash_api_key(self.key), scope)
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

    fn minted() -> MintedApiKey {
        // 0xab: hex letters, so case matters.
        mint_api_key(&[0xab; API_KEY_ENTROPY_BYTES])
    }

    #[test]
    fn a_minted_key_parses_and_claims_its_prefix_and_hash() {
        let minted = minted();
        assert_eq!(minted.key.len(), 5 + 12 + 1 + 64);
        let presented = PresentedApiKey::parse(Some(&minted.key)).unwrap();
        assert_eq!(presented.prefix(), minted.prefix);
        let caller = presented.caller("notes:read");
        assert_eq!(caller.key_prefix(), minted.prefix);
        assert_eq!(hex::encode(caller.key_sha256()), minted.key_sha256_hex);
        assert_eq!(caller.required_scope(), "notes:read");
    }

    #[test]
    fn another_secret_under_the_same_prefix_claims_another_hash() {
        let minted = minted();
        let last = if minted.key.ends_with('0') { "1" } else { "0" };
        let forged = format!("{}{last}", &minted.key[..minted.key.len() - 1]);
        let caller = PresentedApiKey::parse(Some(&forged))
            .unwrap()
            .caller("notes:read");
        assert_eq!(caller.key_prefix(), minted.prefix);
        assert_ne!(hex::encode(caller.key_sha256()), minted.key_sha256_hex);
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
