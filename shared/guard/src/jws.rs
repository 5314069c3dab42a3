//! The seam between the guard's token checks and whoever checks an asymmetric (JWKS) signature.
//!
//! The guard decides everything about a token (which key, which algorithm, the header, the
//! claims); only the signature arithmetic is delegated to a [`JwsSignatureCheck`]: natively the
//! pure-Rust crates ([`PureRustSignatures`]: tests, fuzzing, benches), in a worker workerd's Web
//! Crypto (edge-adapter), so the P-256 and RSA arithmetic never ships in the WASM.

use std::future::{ready, Future};
use std::marker::PhantomData;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use jwt_simple::prelude::{HMACKey, KeyMetadata, MACLike};
use jwt_simple::JWTError;
use serde_json::Value;

/// The asymmetric algorithms a JWKS key may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    /// ECDSA on P-256 with SHA-256; the signature is `r ‖ s`, 64 bytes (RFC 7518 §3.4).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl JwsAlgorithm {
    /// The name in a token's `alg` header.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlgorithm::Es256 => "ES256",
            JwsAlgorithm::Rs256 => "RS256",
        }
    }
}

/// Accepted RSA moduli: 2048 to 4096 bits (Supabase issues 2048-bit keys; smaller ones are weak).
const RSA_MODULUS_BYTES: std::ops::RangeInclusive<usize> = 256..=512;

/// One signing key of the project's JWKS, kept as the members of its public JWK (checked for
/// shape when parsed), so whoever verifies can import it: `importKey("jwk", …)` in a worker, the
/// pure-Rust crates natively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JwksKey {
    material: KeyMaterial,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyMaterial {
    /// Base64url coordinates, 32 bytes each.
    P256 { x: String, y: String },
    /// Base64url modulus and exponent.
    Rsa { n: String, e: String },
}

impl JwksKey {
    /// The key of a JWK object: EC on P-256 or RSA, members decodable and of the right sizes, an
    /// `alg` member (if any) naming the algorithm the key type implies. Anything else is `None`.
    pub(crate) fn from_jwk(jwk: &Value) -> Option<Self> {
        let member = |name: &str| jwk.get(name).and_then(Value::as_str);
        let decoded_len = |text: &str| B64URL.decode(text).ok().map(|bytes| bytes.len());
        let material = match member("kty")? {
            "EC" if member("crv")? == "P-256" => {
                let (x, y) = (member("x")?, member("y")?);
                if decoded_len(x)? != 32 || decoded_len(y)? != 32 {
                    return None;
                }
                KeyMaterial::P256 {
                    x: x.to_owned(),
                    y: y.to_owned(),
                }
            }
            "RSA" => {
                let (n, e) = (member("n")?, member("e")?);
                if !RSA_MODULUS_BYTES.contains(&decoded_len(n)?)
                    || !(1..=8).contains(&decoded_len(e)?)
                {
                    return None;
                }
                KeyMaterial::Rsa {
                    n: n.to_owned(),
                    e: e.to_owned(),
                }
            }
            _ => return None,
        };
        let key = Self { material };
        match member("alg") {
            Some(alg) if alg != key.algorithm().name() => None,
            _ => Some(key),
        }
    }

    pub fn algorithm(&self) -> JwsAlgorithm {
        match self.material {
            KeyMaterial::P256 { .. } => JwsAlgorithm::Es256,
            KeyMaterial::Rsa { .. } => JwsAlgorithm::Rs256,
        }
    }

    /// The members of a minimal public JWK of this key (`kty` and `crv`/`x`/`y`, or `kty` and
    /// `n`/`e`): what `crypto.subtle.importKey("jwk", …)` takes, without the document's `alg`,
    /// `use` or `key_ops`.
    pub fn jwk_members(&self) -> Vec<(&'static str, &str)> {
        match &self.material {
            KeyMaterial::P256 { x, y } => vec![("kty", "EC"), ("crv", "P-256"), ("x", x), ("y", y)],
            KeyMaterial::Rsa { n, e } => vec![("kty", "RSA"), ("n", n), ("e", e)],
        }
    }
}

/// Checks one signature with one JWKS key. The guard calls it only after it has chosen the key
/// by `kid` and matched the header's `alg` to the key's algorithm; `signing_input` is the token's
/// `<header>.<payload>` and `signature` its decoded third part.
pub trait JwsSignatureCheck {
    /// Whether `signature` is a valid signature of `signing_input` under `key` with
    /// `key.algorithm()`. Any failure (an unusable key, a malformed signature) is `false`.
    fn verify(
        &self,
        key: &JwksKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> impl Future<Output = bool>;
}

/// The pure-Rust check (`p256`, `rsa`): for native builds, tests, fuzzing and benches. It never
/// waits. Workers use Web Crypto instead (edge-adapter), which keeps these crates out of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PureRustSignatures;

impl JwsSignatureCheck for PureRustSignatures {
    fn verify(
        &self,
        key: &JwksKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> impl Future<Output = bool> {
        ready(pure_rust_verify(key, signing_input, signature).is_some())
    }
}

fn pure_rust_verify(key: &JwksKey, signing_input: &[u8], signature: &[u8]) -> Option<()> {
    match &key.material {
        KeyMaterial::P256 { x, y } => {
            use p256::ecdsa::signature::Verifier;
            let mut point = vec![4u8];
            point.extend(B64URL.decode(x).ok()?);
            point.extend(B64URL.decode(y).ok()?);
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?;
            let signature = p256::ecdsa::Signature::from_slice(signature).ok()?;
            key.verify(signing_input, &signature).ok()
        }
        KeyMaterial::Rsa { n, e } => {
            use rsa::signature::Verifier;
            let number = |text: &str| {
                B64URL
                    .decode(text)
                    .ok()
                    .map(|b| rsa::BigUint::from_bytes_be(&b))
            };
            let key = rsa::RsaPublicKey::new(number(n)?, number(e)?).ok()?;
            let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
            let signature = rsa::pkcs1v15::Signature::try_from(signature).ok()?;
            key.verify(signing_input, &signature).ok()
        }
    }
}

/// A token's `<header>.<payload>` and its decoded signature; `None` unless it has three parts
/// and a base64url signature.
pub(crate) fn signed_parts(token: &str) -> Option<(&str, Vec<u8>)> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    if signing_input.matches('.').count() != 1 {
        return None;
    }
    Some((signing_input, B64URL.decode(signature).ok()?))
}

/// The names jwt-simple matches a token's `alg` header against.
pub(crate) trait AlgorithmName {
    const NAME: &'static str;
}
pub(crate) struct Es256;
pub(crate) struct Rs256;
impl AlgorithmName for Es256 {
    const NAME: &'static str = "ES256";
}
impl AlgorithmName for Rs256 {
    const NAME: &'static str = "RS256";
}

/// A signature a [`JwsSignatureCheck`] has already accepted, presented to jwt-simple as a MAC
/// key, so the token's header and claims pass through exactly the checks an HS256 token gets
/// (`exp`/`nbf`/`iat` with leeway, `aud`, `iss`, `crit`, `typ`, the header's `alg`, the length
/// cap). Its "tag" is the accepted signature for the accepted signing input only: for any other
/// input it is empty, which no token's signature equals, so nothing unchecked can pass.
pub(crate) struct CheckedSignature<A> {
    signing_input: String,
    signature: Vec<u8>,
    /// jwt-simple refuses MAC keys under 12 bytes before anything else; this one is never used
    /// to compute anything.
    placeholder: HMACKey,
    key_id: Option<String>,
    metadata: Option<KeyMetadata>,
    algorithm: PhantomData<A>,
}

impl<A> CheckedSignature<A> {
    pub(crate) fn new(signing_input: &str, signature: Vec<u8>) -> Self {
        Self {
            signing_input: signing_input.to_owned(),
            signature,
            placeholder: HMACKey::from_bytes(&[0; 32]),
            key_id: None,
            metadata: None,
            algorithm: PhantomData,
        }
    }
}

impl<A: AlgorithmName> MACLike for CheckedSignature<A> {
    fn jwt_alg_name() -> &'static str {
        A::NAME
    }

    fn key(&self) -> &HMACKey {
        &self.placeholder
    }

    fn key_id(&self) -> &Option<String> {
        &self.key_id
    }

    fn set_key_id(&mut self, key_id: String) {
        self.key_id = Some(key_id);
    }

    fn metadata(&self) -> &Option<KeyMetadata> {
        &self.metadata
    }

    fn attach_metadata(&mut self, _metadata: KeyMetadata) -> Result<(), jwt_simple::Error> {
        Err(JWTError::InvalidKeyPair.into())
    }

    fn authentication_tag(&self, authenticated: &[u8]) -> Vec<u8> {
        if authenticated == self.signing_input.as_bytes() {
            self.signature.clone()
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_simple::prelude::*;

    fn p256_key() -> (ES256KeyPair, JwksKey) {
        let pair = ES256KeyPair::generate();
        let jwk: Value = serde_json::from_str(&pair.public_key().to_jwk()).unwrap();
        (pair, JwksKey::from_jwk(&jwk).unwrap())
    }

    fn verify(key: &JwksKey, token: &str) -> bool {
        let (input, signature) = signed_parts(token).unwrap();
        crate::jwt::completed(PureRustSignatures.verify(key, input.as_bytes(), &signature))
    }

    #[test]
    fn parses_p256_and_rsa_jwks_and_refuses_other_shapes() {
        let (_, key) = p256_key();
        assert_eq!(key.algorithm(), JwsAlgorithm::Es256);
        assert_eq!(key.jwk_members()[..2], [("kty", "EC"), ("crv", "P-256")]);
        let rsa = RS256KeyPair::generate(2048).unwrap();
        let jwk: Value = serde_json::from_str(&rsa.public_key().to_jwk()).unwrap();
        assert_eq!(
            JwksKey::from_jwk(&jwk).unwrap().algorithm(),
            JwsAlgorithm::Rs256
        );

        let x = B64URL.encode([1u8; 32]);
        let short = B64URL.encode([1u8; 31]);
        for bad in [
            serde_json::json!({"kty": "EC", "crv": "P-384", "x": x, "y": x}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": short, "y": x}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": "!!", "y": x}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": x, "alg": "RS256"}),
            serde_json::json!({"kty": "RSA", "n": B64URL.encode([7u8; 128]), "e": "AQAB"}),
            serde_json::json!({"kty": "oct", "k": x}),
        ] {
            assert_eq!(JwksKey::from_jwk(&bad), None, "{bad}");
        }
    }

    #[test]
    fn pure_rust_check_accepts_the_signature_and_refuses_any_change() {
        let (pair, key) = p256_key();
        let token = pair.sign(Claims::create(Duration::from_mins(5))).unwrap();
        assert!(verify(&key, &token));
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut flipped = B64URL.decode(signature).unwrap();
        flipped[10] ^= 1;
        let zero = B64URL.encode([0u8; 64]);
        for forged in [
            format!("{input}x.{signature}"),
            format!("{input}.{}", B64URL.encode(flipped)),
            format!("{input}.{zero}"),
            format!("{input}.{}", B64URL.encode([1u8; 70])),
        ] {
            assert!(!verify(&key, &forged), "{forged}");
        }
        let (_, other) = p256_key();
        assert!(!verify(&other, &token));
    }

    #[test]
    fn a_checked_signature_vouches_for_its_own_signing_input_only() {
        let checked = CheckedSignature::<Es256>::new("a.b", vec![1, 2, 3]);
        assert_eq!(checked.authentication_tag(b"a.b"), [1, 2, 3]);
        assert!(checked.authentication_tag(b"a.c").is_empty());
    }

    #[test]
    fn signed_parts_needs_exactly_three_parts() {
        assert_eq!(signed_parts("a.b.AQID"), Some(("a.b", vec![1, 2, 3])));
        for bad in ["a.b", "a.b.c.AQID", "ab.AQID", "a.b.!!"] {
            assert_eq!(signed_parts(bad), None, "{bad}");
        }
    }
}
