//! Paddle Billing webhooks: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>…]`, where
//! h1 = HMAC-SHA256(endpoint secret, "<ts>:<raw body>").

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::principal::{VerifiedWebhook, WebhookProvider};
use crate::Refusal;

/// The official SDKs' window; retries carry a fresh `ts`, so a short window costs nothing.
pub const PADDLE_DEFAULT_TOLERANCE_SECS: u64 = 5;
/// The widest window we allow a deployment to configure.
const MAX_TOLERANCE_SECS: u64 = 300;

pub struct PaddleVerifier {
    secrets: Vec<Vec<u8>>,
    tolerance_secs: u64,
}

/// The parts of `Paddle-Signature` we use; unknown keys are ignored (forward compatible).
struct SignatureHeader {
    ts: u64,
    ts_text: String,
    signatures: Vec<Vec<u8>>,
}

#[derive(Deserialize)]
struct Envelope {
    event_id: String,
    event_type: String,
    occurred_at: Option<String>,
}

impl PaddleVerifier {
    /// Several secrets may be active during a rotation. `None` when none is configured.
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        tolerance_secs: u64,
    ) -> Option<Self> {
        let secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let tolerance_secs = tolerance_secs.min(MAX_TOLERANCE_SECS);
        (!secrets.is_empty()).then_some(Self {
            secrets,
            tolerance_secs,
        })
    }

    /// Verifies the signature over the exact raw body, then reads the event envelope.
    pub fn verify(
        &self,
        header: Option<&str>,
        raw_body: &[u8],
        now_unix: u64,
    ) -> Result<VerifiedWebhook, Refusal> {
        let header = header.ok_or(Refusal::unauthenticated(
            "missing_signature",
            "the Paddle-Signature header is required",
        ))?;
        let parsed = parse_header(header)?;
        if parsed.ts.abs_diff(now_unix) > self.tolerance_secs {
            return Err(Refusal::unauthenticated(
                "stale_signature",
                "the signature timestamp is outside the allowed window",
            ));
        }
        if !self.any_signature_matches(&parsed, raw_body) {
            return Err(Refusal::unauthenticated(
                "invalid_signature",
                "the signature does not match",
            ));
        }
        read_envelope(raw_body)
    }

    fn any_signature_matches(&self, header: &SignatureHeader, raw_body: &[u8]) -> bool {
        let mut matched = subtle::Choice::from(0);
        for secret in &self.secrets {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
            mac.update(header.ts_text.as_bytes());
            mac.update(b":");
            mac.update(raw_body);
            let expected = mac.finalize().into_bytes();
            for candidate in &header.signatures {
                matched |= expected.as_slice().ct_eq(candidate);
            }
        }
        matched.into()
    }
}

fn parse_header(header: &str) -> Result<SignatureHeader, Refusal> {
    let malformed = || {
        Refusal::unauthenticated(
            "malformed_signature",
            "Paddle-Signature must be 'ts=<unix>;h1=<hex>'",
        )
    };
    let mut ts: Option<&str> = None;
    let mut signatures = Vec::new();
    for part in header.split(';') {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match key.trim() {
            "ts" if ts.is_none() => ts = Some(value.trim()),
            "ts" => return Err(malformed()),
            // A garbled h1 cannot match anything; skipping it keeps the others usable.
            "h1" => signatures.extend(hex::decode(value.trim()).ok().filter(|s| s.len() == 32)),
            _ => {}
        }
    }
    let ts_text = ts
        .filter(|t| !t.is_empty() && t.len() <= 12 && t.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(malformed)?;
    if signatures.is_empty() {
        return Err(malformed());
    }
    let ts = ts_text.parse().map_err(|_| malformed())?;
    Ok(SignatureHeader {
        ts,
        ts_text: ts_text.to_owned(),
        signatures,
    })
}

fn read_envelope(raw_body: &[u8]) -> Result<VerifiedWebhook, Refusal> {
    let invalid = || {
        Refusal::bad_request(
            "invalid_payload",
            "the body is not a Paddle event (event_id, event_type)",
        )
    };
    let text = std::str::from_utf8(raw_body).map_err(|_| invalid())?;
    let payload: serde_json::Value = serde_json::from_str(text).map_err(|_| invalid())?;
    let envelope = Envelope::deserialize(&payload).map_err(|_| invalid())?;
    if envelope.event_id.is_empty()
        || envelope.event_id.len() > 200
        || envelope.event_type.is_empty()
    {
        return Err(invalid());
    }
    Ok(VerifiedWebhook::new(
        WebhookProvider::Paddle,
        envelope.event_id,
        envelope.event_type,
        envelope.occurred_at,
        payload,
        text.to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Official vectors: the Python SDK's tests, and the Node SDK's tests (../shared/specs/webhooks.md).
    const PY_SECRET: &str = "pdl_ntf_01hbpjmytsa32fhr36nqgc3kgb_WvRO0eL4Bj9rgYYIBZY6wZhG4EHy9jzh";
    const PY_TS: u64 = 1696195954;
    const PY_H1: &str = "d96299976a6eb066f484d7fde011ac56fc32b38fc9940bc419d6e537fdc6ef02";
    const NODE_HEADER: &str =
        "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9";

    fn verifier(secrets: &[&str]) -> PaddleVerifier {
        PaddleVerifier::new(secrets.iter().copied(), PADDLE_DEFAULT_TOLERANCE_SECS).unwrap()
    }

    fn sign(secret: &str, ts: u64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}:{body}").as_bytes());
        format!("ts={ts};h1={}", hex::encode(mac.finalize().into_bytes()))
    }

    const EVENT: &str = r#"{"event_id":"evt_01hv8x0000000000000000000a","event_type":"transaction.completed","occurred_at":"2026-11-23T10:00:00Z","data":{}}"#;

    #[test]
    fn python_sdk_vector_signature_matches() {
        let header = parse_header(&format!("ts={PY_TS};h1={PY_H1}")).unwrap();
        assert!(verifier(&[PY_SECRET]).any_signature_matches(&header, b"hello-world"));
        assert!(!verifier(&[PY_SECRET]).any_signature_matches(&header, b"hello-world!"));
    }

    #[test]
    fn python_sdk_vector_any_h1_may_match() {
        let header = parse_header(&format!("ts={PY_TS};h1=dummy;h1={PY_H1}")).unwrap();
        assert!(verifier(&[PY_SECRET]).any_signature_matches(&header, b"hello-world"));
    }

    #[test]
    fn node_sdk_vector_exact_bytes_only() {
        let header = parse_header(NODE_HEADER).unwrap();
        let v = verifier(&["VALID_SECRET"]);
        assert!(v.any_signature_matches(&header, br#"{"data": ["1", "2"]}"#));
        assert!(!v.any_signature_matches(&header, br#"{ "data": [ "1", "2" ]}"#));
    }

    #[test]
    fn accepts_a_fresh_signed_event_and_reads_its_envelope() {
        let now = 1_800_000_000;
        let event = verifier(&["pdl_ntfset_x"])
            .verify(
                Some(&sign("pdl_ntfset_x", now, EVENT)),
                EVENT.as_bytes(),
                now,
            )
            .unwrap();
        assert_eq!(event.event_id(), "evt_01hv8x0000000000000000000a");
        assert_eq!(event.event_type(), "transaction.completed");
        assert_eq!(event.occurred_at(), Some("2026-11-23T10:00:00Z"));
        assert_eq!(event.raw_body(), EVENT);
    }

    #[test]
    fn rotation_accepts_either_secret() {
        let now = 1_800_000_000;
        let v = verifier(&["new_secret", "old_secret"]);
        assert!(v
            .verify(Some(&sign("old_secret", now, EVENT)), EVENT.as_bytes(), now)
            .is_ok());
        assert!(v
            .verify(Some(&sign("new_secret", now, EVENT)), EVENT.as_bytes(), now)
            .is_ok());
        let refusal = v
            .verify(Some(&sign("other", now, EVENT)), EVENT.as_bytes(), now)
            .unwrap_err();
        assert_eq!(refusal.code, "invalid_signature");
    }

    #[test]
    fn refuses_old_and_future_timestamps() {
        let now = 1_800_000_000;
        let v = verifier(&["s"]);
        let old = v
            .verify(Some(&sign("s", now - 6, EVENT)), EVENT.as_bytes(), now)
            .unwrap_err();
        let future = v
            .verify(Some(&sign("s", now + 6, EVENT)), EVENT.as_bytes(), now)
            .unwrap_err();
        assert_eq!(
            (old.code, future.code),
            ("stale_signature", "stale_signature")
        );
        assert!(v
            .verify(Some(&sign("s", now - 5, EVENT)), EVENT.as_bytes(), now)
            .is_ok());
    }

    #[test]
    fn refuses_tampered_body_and_tampered_timestamp() {
        let now = 1_800_000_000;
        let v = verifier(&["s"]);
        let header = sign("s", now, EVENT);
        let tampered_body = EVENT.replace("completed", "refunded");
        assert_eq!(
            v.verify(Some(&header), tampered_body.as_bytes(), now)
                .unwrap_err()
                .code,
            "invalid_signature"
        );
        let tampered_ts = header.replace(&format!("ts={now}"), &format!("ts={}", now - 1));
        assert_eq!(
            v.verify(Some(&tampered_ts), EVENT.as_bytes(), now)
                .unwrap_err()
                .code,
            "invalid_signature"
        );
    }

    #[test]
    fn refuses_malformed_headers_without_panicking() {
        let v = verifier(&["s"]);
        let h1 = "h1=".to_owned() + &"0".repeat(64);
        for bad in [
            "".to_owned(),
            "ts=;".to_owned(),
            "h1=abc".to_owned(),
            format!("ts=1;ts=2;{h1}"),
            format!("ts=-1;{h1}"),
            format!("ts=99999999999999999999;{h1}"),
            "ts=1;h1=zz".to_owned(),
            "\u{0};=;;==".to_owned(),
        ] {
            assert_eq!(
                v.verify(Some(&bad), b"{}", 1).unwrap_err().code,
                "malformed_signature",
                "{bad:?}"
            );
        }
        assert_eq!(
            v.verify(None, b"{}", 1).unwrap_err().code,
            "missing_signature"
        );
    }

    #[test]
    fn a_signed_body_that_is_not_an_event_is_a_bad_request() {
        let now = 1_800_000_000;
        let v = verifier(&["s"]);
        for body in [
            "not json",
            "{}",
            r#"{"event_id":"","event_type":"x"}"#,
            "[1]",
        ] {
            let refusal = v
                .verify(Some(&sign("s", now, body)), body.as_bytes(), now)
                .unwrap_err();
            assert_eq!(
                (refusal.status, refusal.code),
                (400, "invalid_payload"),
                "{body}"
            );
        }
        let non_utf8 = [0xff, 0xfe];
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
        mac.update(format!("{now}:").as_bytes());
        mac.update(&non_utf8);
        let header = format!("ts={now};h1={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(
            v.verify(Some(&header), &non_utf8, now).unwrap_err().code,
            "invalid_payload"
        );
    }
}
