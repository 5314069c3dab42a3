//! Any `X-Api-Key` value: parsing refuses with 401 or yields a prefix that is part of the key;
//! checking it against a stored row never panics and never accepts a key that is not the one
//! the row was minted for.
#![no_main]

use edge_guard::{
    hash_api_key, mint_api_key, PresentedApiKey, StoredApiKey, API_KEY_ENTROPY_BYTES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let minted = mint_api_key(&[42; API_KEY_ENTROPY_BYTES]);
    let row = StoredApiKey {
        id: "k".into(),
        workspace_id: "w".into(),
        prefix: minted.prefix.clone(),
        key_sha256: hash_api_key(&minted.key),
        revoked: false,
        scopes: vec![],
    };
    match PresentedApiKey::parse(Some(value)) {
        Ok(presented) => {
            assert!(value.contains(presented.prefix()));
            if presented.verify(Some(&row), None).is_ok() {
                assert_eq!(value.trim(), minted.key);
            }
        }
        Err(refusal) => assert_eq!(refusal.status, 401),
    }
});
