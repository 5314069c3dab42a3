//! `webhook-id`, `webhook-timestamp`, `webhook-signature`, the body (one per line).
#![no_main]
mod common;

use edge_guard::StandardWebhooksVerifier;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some([id, timestamp, signature, body]) = common::fields::<4>(data) else {
        return;
    };
    let verifier =
        StandardWebhooksVerifier::new(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]).unwrap();
    common::assert_refused(verifier.verify(
        Some(id),
        Some(timestamp),
        Some(signature),
        body.as_bytes(),
        common::NOW,
    ));
});
