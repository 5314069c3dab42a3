//! The subscribe handshake's query string. A configured token can be guessed by the fuzzer only
//! by chance; an answer must then be a plain challenge.
#![no_main]
mod common;

use edge_guard::MetaSubscription;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some([query]) = common::fields::<1>(data) else {
        return;
    };
    let subscription = MetaSubscription::new(["fuzz-verify-token"]).unwrap();
    match subscription.answer(query) {
        Ok(challenge) => assert!(
            !challenge.is_empty()
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        ),
        Err(refusal) => assert!(matches!(refusal.status, 400 | 403), "{refusal:?}"),
    }
});
