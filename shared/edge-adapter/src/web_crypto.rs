//! ES256/RS256 signatures checked by workerd's Web Crypto (`crypto.subtle.verify`), the adapter's
//! side of the guard's [`JwsSignatureCheck`] seam. workerd does the arithmetic natively
//! (BoringSSL), far faster than P-256 in WASM, and the pure-Rust curve and RSA code stays out of
//! every worker. The guard still chooses the key, matches `alg` and checks every claim.

use std::cell::RefCell;
use std::collections::HashMap;

use edge_guard::{JwksKey, JwsAlgorithm, JwsSignatureCheck};
use web_sys::{Crypto, CryptoKey, SubtleCrypto};
use worker::js_sys::{self, Array, Object, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

use crate::{log_event, Level};

/// A JWKS holds a few keys; more imported keys than this (rotations over an isolate's life)
/// empties the cache rather than letting it grow.
const MAX_IMPORTED_KEYS: usize = 16;

thread_local! {
    /// Keys imported once per isolate, found by the key itself: a refetched JWKS that puts
    /// another key under a known `kid` is imported anew, never served the old one.
    static IMPORTED: RefCell<HashMap<JwksKey, CryptoKey>> = RefCell::new(HashMap::new());
}

/// The Web Crypto signature check every function's JWT guard uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCryptoSignatures;

impl JwsSignatureCheck for WebCryptoSignatures {
    async fn verify(&self, key: &JwksKey, signing_input: &[u8], signature: &[u8]) -> bool {
        match verify(key, signing_input, signature).await {
            Ok(valid) => valid,
            Err(error) => {
                // An unusable key or a signature Web Crypto cannot take: refused either way.
                log_event(
                    Level::Warn,
                    "web_crypto_verify_failed",
                    &[("detail", format!("{error:?}").into())],
                );
                false
            }
        }
    }
}

async fn verify(key: &JwksKey, signing_input: &[u8], signature: &[u8]) -> Result<bool, JsValue> {
    let subtle = subtle();
    let crypto_key = imported(&subtle, key).await?;
    let algorithm = match key.algorithm() {
        JwsAlgorithm::Es256 => object(&[("name", "ECDSA"), ("hash", "SHA-256")])?,
        JwsAlgorithm::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5")])?,
    };
    // Copies on the JS heap: Web Crypto reads them after this call returns.
    let promise = subtle.verify_with_object_and_buffer_source_and_buffer_source(
        &algorithm,
        &crypto_key,
        &Uint8Array::from(signature),
        &Uint8Array::from(signing_input),
    )?;
    Ok(JsFuture::from(promise).await?.as_bool() == Some(true))
}

fn subtle() -> SubtleCrypto {
    // workerd's global `crypto`; its class is not reachable by name from every global scope.
    Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .unwrap_or(JsValue::UNDEFINED)
        .unchecked_into::<Crypto>()
        .subtle()
}

/// The key as a verify-only `CryptoKey`, imported from its JWK members on first use.
async fn imported(subtle: &SubtleCrypto, key: &JwksKey) -> Result<CryptoKey, JsValue> {
    if let Some(cached) = IMPORTED.with_borrow(|keys| keys.get(key).cloned()) {
        return Ok(cached);
    }
    let algorithm = match key.algorithm() {
        JwsAlgorithm::Es256 => object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?,
        JwsAlgorithm::Rs256 => object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")])?,
    };
    let usages = Array::of1(&JsValue::from_str("verify"));
    let promise = subtle.import_key_with_object(
        "jwk",
        &object(&key.jwk_members())?,
        &algorithm,
        false,
        &usages,
    )?;
    let crypto_key: CryptoKey = JsFuture::from(promise).await?.unchecked_into();
    IMPORTED.with_borrow_mut(|keys| {
        if keys.len() >= MAX_IMPORTED_KEYS {
            keys.clear();
        }
        keys.insert(key.clone(), crypto_key.clone());
    });
    Ok(crypto_key)
}

fn object(members: &[(&str, &str)]) -> Result<Object, JsValue> {
    let object = Object::new();
    for (name, value) in members {
        Reflect::set(&object, &JsValue::from_str(name), &JsValue::from_str(value))?;
    }
    Ok(object)
}
