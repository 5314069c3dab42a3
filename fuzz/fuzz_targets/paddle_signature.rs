//! `Paddle-Signature` header, then the body (line 2 on).
#![no_main]
mod common;

use edge_guard::PaddleVerifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some([header, body]) = common::fields::<2>(data) else {
        return;
    };
    let verifier = PaddleVerifier::new(["pdl_ntfset_fuzz", "VALID_SECRET"], 300).unwrap();
    common::assert_refused(verifier.verify(Some(header), body.as_bytes(), common::NOW));
});
