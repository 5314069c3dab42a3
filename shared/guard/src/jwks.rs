//! Supabase's asymmetric signing keys: the JWKS document at
//! `<SUPABASE_URL>/auth/v1/.well-known/jwks.json`, and a cache of it with a TTL. The fetch
//! itself happens in the adapter; everything here takes `now` so it tests without a clock.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::jws::JwksKey;

/// Where Supabase publishes the project's public keys.
pub fn jwks_url(supabase_url: &str) -> String {
    format!(
        "{}/auth/v1/.well-known/jwks.json",
        supabase_url.trim_end_matches('/')
    )
}

/// Supabase caches the document 10 minutes at its edge; clients may cache it as long.
pub const DEFAULT_JWKS_TTL_SECS: u64 = 600;

/// A token naming an unknown `kid` triggers a refetch (a key may just have been added), but at
/// most this often, so forged `kid`s cannot make every request fetch.
pub const MIN_REFETCH_SECS: u64 = 30;

/// A JWKS larger than this is refused (a real one holds a few keys, well under 16 KB).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// The usable keys of a JWKS document, by `kid`. Several at once: during a rotation the old and
/// the new key are both published.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    keys: HashMap<String, JwksKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("the JWKS document is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("the JWKS document is not a JSON object with a `keys` array")]
    Malformed,
    #[error("the JWKS document holds no usable ES256 or RS256 key with a kid")]
    NoUsableKey,
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<Value>,
}

impl JwkSet {
    /// Keeps every ES256 (EC P-256) and RS256 (RSA, 2048 to 4096 bits) signing key that has a
    /// `kid`; other keys (other curves, `use: enc`, symmetric `oct`, malformed members, an `alg`
    /// that contradicts the key type) are skipped, never trusted.
    pub fn parse(document: &str) -> Result<Self, JwksError> {
        if document.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge);
        }
        let document: Document =
            serde_json::from_str(document).map_err(|_| JwksError::Malformed)?;
        let keys: HashMap<String, JwksKey> = document
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.get("kid")?.as_str()?.to_owned();
                if jwk.get("use").and_then(Value::as_str).unwrap_or("sig") != "sig" {
                    return None;
                }
                Some((kid, JwksKey::from_jwk(jwk)?))
            })
            .collect();
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey);
        }
        Ok(Self { keys })
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&JwksKey> {
        self.keys.get(kid)
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The last fetched key set and when it was fetched. One per isolate (the adapter holds it).
#[derive(Debug, Clone)]
pub struct JwksCache {
    ttl_secs: u64,
    current: Option<(JwkSet, u64)>,
}

impl JwksCache {
    pub fn new(ttl_secs: u64) -> Self {
        Self {
            ttl_secs,
            current: None,
        }
    }

    /// Whether to fetch before verifying a token signed with `kid`: nothing cached, the cache is
    /// past its TTL, or `kid` is unknown and the last fetch is old enough to try again.
    pub fn needs_fetch(&self, kid: &str, now: u64) -> bool {
        match &self.current {
            None => true,
            Some((keys, fetched_at)) => {
                let age = now.saturating_sub(*fetched_at);
                age >= self.ttl_secs || (!keys.contains(kid) && age >= MIN_REFETCH_SECS)
            }
        }
    }

    /// Replaces the cached set with a freshly fetched document. A bad document leaves the cache
    /// as it was.
    pub fn store(&mut self, document: &str, now: u64) -> Result<(), JwksError> {
        self.current = Some((JwkSet::parse(document)?, now));
        Ok(())
    }

    /// The cached keys while within their TTL.
    pub fn keys(&self, now: u64) -> Option<&JwkSet> {
        self.current
            .as_ref()
            .filter(|(_, fetched_at)| now.saturating_sub(*fetched_at) < self.ttl_secs)
            .map(|(keys, _)| keys)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jwt_simple::prelude::{ES256KeyPair, RS256KeyPair};

    /// A JWKS document holding the public halves of these key pairs.
    pub(crate) fn document(es: &[&ES256KeyPair], rs: &[&RS256KeyPair]) -> String {
        let keys: Vec<Value> = es
            .iter()
            .map(|k| serde_json::from_str(&k.public_key().to_jwk()).unwrap())
            .chain(
                rs.iter()
                    .map(|k| serde_json::from_str(&k.public_key().to_jwk()).unwrap()),
            )
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    }

    #[test]
    fn keeps_signing_keys_by_kid_and_skips_the_rest() {
        let es = ES256KeyPair::generate().with_key_id("es-1");
        let rs = RS256KeyPair::generate(2048).unwrap().with_key_id("rs-1");
        let mut doc: Value = serde_json::from_str(&document(&[&es], &[&rs])).unwrap();
        let keys = doc["keys"].as_array_mut().unwrap();
        keys.push(serde_json::json!({"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}));
        let mut no_kid = keys[0].clone();
        no_kid.as_object_mut().unwrap().remove("kid");
        keys.push(no_kid);
        let set = JwkSet::parse(&doc.to_string()).unwrap();
        assert_eq!(set.len(), 2);
        assert!(set.contains("es-1") && set.contains("rs-1") && !set.contains("sym"));
    }

    #[test]
    fn refuses_documents_without_usable_keys() {
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"keys":[{"kty":"oct","kid":"a","k":"AA"}]}"#,
        ] {
            assert!(JwkSet::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            JwkSet::parse(&" ".repeat(MAX_JWKS_BYTES + 1)).unwrap_err(),
            JwksError::TooLarge
        );
    }

    #[test]
    fn cache_expires_after_its_ttl_and_refreshes() {
        let old = ES256KeyPair::generate().with_key_id("old");
        let new = ES256KeyPair::generate().with_key_id("new");
        let mut cache = JwksCache::new(DEFAULT_JWKS_TTL_SECS);
        assert!(cache.needs_fetch("old", 1_000));
        cache.store(&document(&[&old], &[]), 1_000).unwrap();
        assert!(!cache.needs_fetch("old", 1_000 + DEFAULT_JWKS_TTL_SECS - 1));
        assert!(cache.keys(1_000 + DEFAULT_JWKS_TTL_SECS - 1).is_some());
        assert!(cache.needs_fetch("old", 1_000 + DEFAULT_JWKS_TTL_SECS));
        assert!(cache.keys(1_000 + DEFAULT_JWKS_TTL_SECS).is_none());

        // Rotation: the refreshed document carries both keys.
        cache.store(&document(&[&old, &new], &[]), 1_700).unwrap();
        let keys = cache.keys(1_700).unwrap();
        assert!(keys.contains("old") && keys.contains("new"));
    }

    #[test]
    fn unknown_kid_refetches_at_most_every_min_interval() {
        let key = ES256KeyPair::generate().with_key_id("k");
        let mut cache = JwksCache::new(DEFAULT_JWKS_TTL_SECS);
        cache.store(&document(&[&key], &[]), 1_000).unwrap();
        assert!(!cache.needs_fetch("unknown", 1_000 + MIN_REFETCH_SECS - 1));
        assert!(cache.needs_fetch("unknown", 1_000 + MIN_REFETCH_SECS));
        assert!(!cache.needs_fetch("k", 1_000 + MIN_REFETCH_SECS));
    }

    #[test]
    fn a_bad_refresh_keeps_the_previous_keys() {
        let key = ES256KeyPair::generate().with_key_id("k");
        let mut cache = JwksCache::new(DEFAULT_JWKS_TTL_SECS);
        cache.store(&document(&[&key], &[]), 1_000).unwrap();
        assert!(cache.store("not json", 1_010).is_err());
        assert!(cache.keys(1_010).unwrap().contains("k"));
    }
}
