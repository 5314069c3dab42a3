//! Any `X-Api-Key` value: parsing refuses with 401 or yields a prefix that is part of the key,
//! and the caller it claims to be carries that prefix and the SHA-256 of exactly the value sent
//! (the database compares that hash with the stored one), never panicking.
#![no_main]

use edge_guard::{hash_api_key, PresentedApiKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    match PresentedApiKey::parse(Some(value)) {
        Ok(presented) => {
            assert!(value.contains(presented.prefix()));
            let caller = presented.caller("notes:read");
            assert_eq!(caller.key_prefix(), presented.prefix());
            assert_eq!(caller.key_sha256(), &hash_api_key(value.trim()));
        }
        Err(refusal) => assert_eq!(refusal.status, 401),
    }
});
