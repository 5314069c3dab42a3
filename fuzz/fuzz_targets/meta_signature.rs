//! `X-Hub-Signature-256`, then the body (line 2 on).
#![no_main]
mod common;

use edge_guard::MetaVerifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some([header, body]) = common::fields::<2>(data) else {
        return;
    };
    let verifier = MetaVerifier::new(["meta_fuzz_app_secret"]).unwrap();
    common::assert_refused(verifier.verify(Some(header), body.as_bytes()));
});
