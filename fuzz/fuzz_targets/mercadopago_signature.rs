//! `x-signature`, `x-request-id`, the query string, the body (one per line).
#![no_main]
mod common;

use edge_guard::MercadoPagoVerifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some([signature, request_id, query, body]) = common::fields::<4>(data) else {
        return;
    };
    let verifier = MercadoPagoVerifier::new(["mp_fuzz_secret"], 300).unwrap();
    common::assert_refused(verifier.verify(
        Some(signature),
        Some(request_id),
        query,
        body.as_bytes(),
        common::NOW,
    ));
});
