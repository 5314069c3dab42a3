//! Paddle Billing webhooks: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>…]`, where
//! h1 = HMAC-SHA256(endpoint secret, "<ts>:<raw body>").

use serde::Deserialize;

use crate::principal::{VerifiedWebhook, WebhookProvider};
use crate::webhook::{self, HeaderFormat, HmacKeys, SignatureEncoding};
use crate::Refusal;

/// The official SDKs' window; retries carry a fresh `ts`, so a short window costs nothing.
pub const PADDLE_DEFAULT_TOLERANCE_SECS: u64 = 5;
/// The widest window we allow a deployment to configure.
const MAX_TOLERANCE_SECS: u64 = 300;

const FORMAT: HeaderFormat = HeaderFormat {
    entry_separator: ';',
    key_separator: '=',
    signature_key: "h1",
    encoding: SignatureEncoding::Hex,
    timestamp_key: Some("ts"),
};

const MISSING_SIGNATURE: Refusal = Refusal::unauthenticated(
    "missing_signature",
    "the Paddle-Signature header is required",
);
const MALFORMED_SIGNATURE: Refusal = Refusal::unauthenticated(
    "malformed_signature",
    "Paddle-Signature must be 'ts=<unix>;h1=<hex>'",
);
const INVALID_PAYLOAD: Refusal = Refusal::bad_request(
    "invalid_payload",
    "the body is not a Paddle event (event_id, event_type)",
);
const INVALID_OCCURRED_AT: Refusal = Refusal::bad_request(
    "invalid_occurred_at",
    "occurred_at must be an RFC 3339 timestamp",
);

/// Checks `Paddle-Signature` against the endpoint's secrets (`pdl_ntfset_…`, used as UTF-8).
pub struct PaddleVerifier {
    keys: HmacKeys,
    tolerance_secs: u64,
}

#[derive(Deserialize)]
struct Envelope {
    event_id: String,
    event_type: String,
    occurred_at: Option<String>,
}

impl PaddleVerifier {
    /// Several secrets may be active during a rotation. `None` when none is configured. The
    /// window is capped at 300 s.
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        tolerance_secs: u64,
    ) -> Option<Self> {
        Some(Self {
            keys: HmacKeys::from_text(secrets)?,
            tolerance_secs: tolerance_secs.min(MAX_TOLERANCE_SECS),
        })
    }

    /// Verifies the signature over the exact raw body, then reads the event envelope.
    pub fn verify(
        &self,
        header: Option<&str>,
        raw_body: &[u8],
        now_unix: u64,
    ) -> Result<VerifiedWebhook, Refusal> {
        let header = FORMAT
            .parse(header.ok_or(MISSING_SIGNATURE)?)
            .map_err(|()| MALFORMED_SIGNATURE)?;
        let ts_text = header.timestamp.unwrap_or_default();
        // Paddle sends seconds; 12 digits reach the year 33658, more is garbage.
        let ts = webhook::parse_unix_timestamp(ts_text)
            .filter(|_| ts_text.len() <= 12)
            .ok_or(MALFORMED_SIGNATURE)?;
        webhook::check_window(ts, now_unix, self.tolerance_secs)?;
        if !self
            .keys
            .any_matches(&[ts_text.as_bytes(), b":", raw_body], &header.signatures)
        {
            return Err(webhook::INVALID_SIGNATURE);
        }
        read_envelope(raw_body)
    }
}

fn read_envelope(raw_body: &[u8]) -> Result<VerifiedWebhook, Refusal> {
    let (text, payload) = webhook::json_body(raw_body, INVALID_PAYLOAD)?;
    let envelope = Envelope::deserialize(&payload).map_err(|_| INVALID_PAYLOAD)?;
    if envelope.event_id.is_empty()
        || envelope.event_id.len() > webhook::MAX_EVENT_ID_LEN
        || envelope.event_type.is_empty()
    {
        return Err(INVALID_PAYLOAD);
    }
    if let Some(occurred_at) = &envelope.occurred_at {
        if !webhook::is_rfc3339(occurred_at) {
            return Err(INVALID_OCCURRED_AT);
        }
    }
    Ok(VerifiedWebhook::new(
        WebhookProvider::Paddle,
        envelope.event_id,
        envelope.event_type,
        envelope.occurred_at,
        payload,
        text,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::test_support::hmac_sha256;

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
        let h1 = hmac_sha256(secret.as_bytes(), &[format!("{ts}:{body}").as_bytes()]);
        format!("ts={ts};h1={}", hex::encode(h1))
    }

    /// The signature check alone, for vectors whose body is not an event.
    fn signature_matches(v: &PaddleVerifier, header: &str, body: &[u8]) -> bool {
        let header = FORMAT.parse(header).unwrap();
        let ts = header.timestamp.unwrap().as_bytes();
        v.keys.any_matches(&[ts, b":", body], &header.signatures)
    }

    const EVENT: &str = r#"{"event_id":"evt_01hv8x0000000000000000000a","event_type":"transaction.completed","occurred_at":"2026-11-23T10:00:00Z","data":{}}"#;

    #[test]
    fn python_sdk_vector_signature_matches() {
        let header = format!("ts={PY_TS};h1={PY_H1}");
        assert!(signature_matches(
            &verifier(&[PY_SECRET]),
            &header,
            b"hello-world"
        ));
        assert!(!signature_matches(
            &verifier(&[PY_SECRET]),
            &header,
            b"hello-world!"
        ));
        assert!(!signature_matches(
            &verifier(&["VALID_SECRET"]),
            &header,
            b"hello-world"
        ));
    }

    #[test]
    fn python_sdk_vector_any_h1_may_match() {
        let header = format!("ts={PY_TS};h1=dummy;h1={PY_H1}");
        assert!(signature_matches(
            &verifier(&[PY_SECRET]),
            &header,
            b"hello-world"
        ));
    }

    #[test]
    fn node_sdk_vector_exact_bytes_only() {
        let v = verifier(&["VALID_SECRET"]);
        assert!(signature_matches(
            &v,
            NODE_HEADER,
            br#"{"data": ["1", "2"]}"#
        ));
        assert!(!signature_matches(
            &v,
            NODE_HEADER,
            br#"{ "data": [ "1", "2" ]}"#
        ));
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
        let h1 = hmac_sha256(b"s", &[format!("{now}:").as_bytes(), &non_utf8]);
        let header = format!("ts={now};h1={}", hex::encode(h1));
        assert_eq!(
            v.verify(Some(&header), &non_utf8, now).unwrap_err().code,
            "invalid_payload"
        );
    }

    #[test]
    fn a_signed_occurred_at_that_is_not_rfc3339_is_a_bad_request() {
        let now = 1_800_000_000;
        let v = verifier(&["s"]);
        for word in [
            "now",
            "yesterday",
            "infinity",
            "-infinity",
            "epoch",
            "2026-11-23",
            "",
        ] {
            let body = EVENT.replace("2026-11-23T10:00:00Z", word);
            let refusal = v
                .verify(Some(&sign("s", now, &body)), body.as_bytes(), now)
                .unwrap_err();
            assert_eq!(
                (refusal.status, refusal.code),
                (400, "invalid_occurred_at"),
                "{word}"
            );
        }
        let without = r#"{"event_id":"evt_1","event_type":"x"}"#;
        let event = v
            .verify(Some(&sign("s", now, without)), without.as_bytes(), now)
            .unwrap();
        assert_eq!(event.occurred_at(), None);
    }

    #[test]
    fn refuses_wrong_secret_empty_header_and_non_hex_signatures() {
        let now = 1_800_000_000;
        let v = verifier(&["s"]);
        let by_other = sign("not-s", now, EVENT);
        assert_eq!(
            v.verify(Some(&by_other), EVENT.as_bytes(), now)
                .unwrap_err(),
            webhook::INVALID_SIGNATURE
        );
        let good = sign("s", now, EVENT);
        let h1 = good.split_once("h1=").unwrap().1;
        for bad in [
            String::new(),
            format!(
                "ts={now};h1={}",
                h1.replace(|c: char| c.is_ascii_digit(), "g")
            ),
            format!("ts={now};h1={}", &h1[..62]),
            format!("ts={now};v1={h1}"),
            format!("ts={now};h1={h1}{}", ";x=y".repeat(1200)),
        ] {
            assert_eq!(
                v.verify(Some(&bad), EVENT.as_bytes(), now).unwrap_err(),
                MALFORMED_SIGNATURE,
                "{bad:.60}"
            );
        }
        // Unknown keys and a garbled h1 beside the right one do not hide it.
        let noisy = format!("ts={now};h2=abc;h1=zz;h1={h1};future=1");
        assert!(v.verify(Some(&noisy), EVENT.as_bytes(), now).is_ok());
    }
}
