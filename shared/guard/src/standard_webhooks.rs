//! Standard Webhooks (standardwebhooks.com; Svix and the services built on it): headers
//! `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature` (space-separated
//! `v1,<base64>` entries), each signature = HMAC-SHA256(base64-decoded secret after `whsec_`,
//! "<id>.<timestamp>.<raw body>").

use base64::Engine;

use crate::principal::{VerifiedWebhook, WebhookProvider};
use crate::webhook::{self, HeaderFormat, HmacKeys, SignatureEncoding, BASE64_ANY_PADDING};
use crate::Refusal;

/// The specification's window, in both directions.
pub const STANDARD_WEBHOOKS_TOLERANCE_SECS: u64 = 300;

const FORMAT: HeaderFormat = HeaderFormat {
    entry_separator: ' ',
    key_separator: ',',
    signature_key: "v1",
    encoding: SignatureEncoding::Base64,
    timestamp_key: None,
};

const MISSING_SIGNATURE: Refusal = Refusal::unauthenticated(
    "missing_signature",
    "the webhook-id, webhook-timestamp and webhook-signature headers are required",
);
const MALFORMED_SIGNATURE: Refusal = Refusal::unauthenticated(
    "malformed_signature",
    "webhook-signature must be 'v1,<base64>' entries, webhook-timestamp unix seconds, webhook-id printable",
);
const INVALID_PAYLOAD: Refusal = Refusal::bad_request(
    "invalid_payload",
    "the body is not a Standard Webhooks event (a JSON object with 'type')",
);

/// Checks `webhook-signature` against the endpoint's secrets (current and, during a rotation,
/// the previous one).
pub struct StandardWebhooksVerifier {
    keys: HmacKeys,
}

impl StandardWebhooksVerifier {
    /// Each secret is `whsec_<base64>` (the prefix is optional). `None` when none is given or
    /// any of them does not decode: a misconfigured secret must stop the function, not be
    /// skipped silently.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let keys = secrets
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let encoded = s.strip_prefix("whsec_").unwrap_or(s);
                BASE64_ANY_PADDING
                    .decode(encoded)
                    .ok()
                    .filter(|key| !key.is_empty())
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            keys: HmacKeys::new(keys)?,
        })
    }

    /// Verifies the signature over `<id>.<timestamp>.<raw body>` within ±5 minutes, then reads
    /// the JSON body. The dedupe key ([`VerifiedWebhook::event_id`]) is `webhook-id`, the same
    /// on every retry; the event type is the body's `type`, `occurred_at` its `timestamp` when
    /// that is RFC 3339.
    pub fn verify(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        raw_body: &[u8],
        now_unix: u64,
    ) -> Result<VerifiedWebhook, Refusal> {
        let (Some(id), Some(timestamp), Some(signature)) = (id, timestamp, signature) else {
            return Err(MISSING_SIGNATURE);
        };
        let id = id.trim();
        let timestamp = timestamp.trim();
        if id.is_empty()
            || id.len() > webhook::MAX_EVENT_ID_LEN
            || !id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(MALFORMED_SIGNATURE);
        }
        let header = FORMAT.parse(signature).map_err(|()| MALFORMED_SIGNATURE)?;
        let ts = webhook::parse_unix_timestamp(timestamp)
            .filter(|_| timestamp.len() <= 12)
            .ok_or(MALFORMED_SIGNATURE)?;
        webhook::check_window(ts, now_unix, STANDARD_WEBHOOKS_TOLERANCE_SECS)?;
        let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", raw_body];
        if !self.keys.any_matches(&signed, &header.signatures) {
            return Err(webhook::INVALID_SIGNATURE);
        }
        let (text, payload) = webhook::json_body(raw_body, INVALID_PAYLOAD)?;
        let event_type = payload
            .get("type")
            .and_then(serde_json::Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or(INVALID_PAYLOAD)?
            .to_owned();
        let occurred_at = payload
            .get("timestamp")
            .and_then(serde_json::Value::as_str)
            .filter(|t| webhook::is_rfc3339(t))
            .map(str::to_owned);
        Ok(VerifiedWebhook::new(
            WebhookProvider::StandardWebhooks,
            id.to_owned(),
            event_type,
            occurred_at,
            payload,
            text,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::test_support::hmac_sha256;

    // The specification's official vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: &str = "1614265330";
    const NOW: u64 = 1_614_265_330;
    const PAYLOAD: &str = r#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    const EVENT: &str = r#"{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{}}"#;

    fn verifier(secrets: &[&str]) -> StandardWebhooksVerifier {
        StandardWebhooksVerifier::new(secrets.iter().copied()).unwrap()
    }

    fn sign(secret: &str, id: &str, ts: &str, body: &str) -> String {
        let key = BASE64_ANY_PADDING
            .decode(secret.trim_start_matches("whsec_"))
            .unwrap();
        let sig = hmac_sha256(&key, &[format!("{id}.{ts}.{body}").as_bytes()]);
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(sig)
        )
    }

    fn verify(
        v: &StandardWebhooksVerifier,
        id: &str,
        ts: &str,
        signature: &str,
        body: &str,
        now: u64,
    ) -> Result<VerifiedWebhook, Refusal> {
        v.verify(Some(id), Some(ts), Some(signature), body.as_bytes(), now)
    }

    #[test]
    fn official_vector_signature_matches() {
        assert_eq!(sign(SECRET, ID, TS, PAYLOAD), SIGNATURE);
        // The vector's payload has no `type`: the signature passes, the envelope check follows.
        let v = verifier(&[SECRET]);
        assert_eq!(
            verify(&v, ID, TS, SIGNATURE, PAYLOAD, NOW).unwrap_err(),
            INVALID_PAYLOAD
        );
        let tampered = PAYLOAD.replace("4}", "5}");
        assert_eq!(
            verify(&v, ID, TS, SIGNATURE, &tampered, NOW).unwrap_err(),
            webhook::INVALID_SIGNATURE
        );
    }

    #[test]
    fn accepts_a_signed_event_with_the_id_as_dedupe_key() {
        let v = verifier(&[SECRET]);
        let event = verify(&v, ID, TS, &sign(SECRET, ID, TS, EVENT), EVENT, NOW).unwrap();
        assert_eq!(event.provider().as_str(), "standard_webhooks");
        assert_eq!(event.event_id(), ID);
        assert_eq!(event.event_type(), "invoice.paid");
        assert_eq!(event.occurred_at(), Some("2026-11-23T10:00:00Z"));
        assert_eq!(event.raw_body(), EVENT);
    }

    #[test]
    fn every_signature_in_the_header_is_tried_and_other_versions_ignored() {
        let v = verifier(&[SECRET]);
        let good = sign(SECRET, ID, TS, EVENT);
        let other = sign("whsec_b3RoZXI=", ID, TS, EVENT);
        for header in [
            format!("{other} {good}"),
            format!("v1,!!! v1a,abc {good}"),
            format!("{good}  v2,xyz"),
            format!("v1,{}= {good}", "A".repeat(43)),
        ] {
            assert!(verify(&v, ID, TS, &header, EVENT, NOW).is_ok(), "{header}");
        }
    }

    #[test]
    fn refuses_tampered_id_timestamp_signature_and_wrong_secret() {
        let v = verifier(&[SECRET]);
        let good = sign(SECRET, ID, TS, EVENT);
        let next_ts = (NOW + 1).to_string();
        // One base64 character changed in the middle: still 32 bytes, another value.
        let flipped = good.replacen('g', "Q", 1);
        let cases = [
            (format!("{ID}x"), TS, good.clone()),
            (ID.to_owned(), next_ts.as_str(), good.clone()),
            (ID.to_owned(), TS, flipped),
            (ID.to_owned(), TS, sign("whsec_b3RoZXI=", ID, TS, EVENT)),
        ];
        for (id, ts, header) in cases {
            assert_eq!(
                verify(&v, &id, ts, &header, EVENT, NOW).unwrap_err(),
                webhook::INVALID_SIGNATURE,
                "{id} {ts} {header}"
            );
        }
        assert_eq!(
            verify(&v, ID, TS, &good, &EVENT.replace("paid", "void"), NOW).unwrap_err(),
            webhook::INVALID_SIGNATURE
        );
    }

    #[test]
    fn rotation_accepts_old_and_new_secret_and_refuses_undecodable_ones() {
        let new = "whsec_bmV3LXNlY3JldC1rZXktMTIzNA";
        let v = verifier(&[new, SECRET]);
        for secret in [new, SECRET] {
            assert!(verify(&v, ID, TS, &sign(secret, ID, TS, EVENT), EVENT, NOW).is_ok());
        }
        // Without the prefix the secret is the same key.
        let bare = verifier(&[SECRET.trim_start_matches("whsec_")]);
        assert!(verify(&bare, ID, TS, &sign(SECRET, ID, TS, EVENT), EVENT, NOW).is_ok());
        assert!(StandardWebhooksVerifier::new([SECRET, "whsec_not base64!"]).is_none());
        assert!(StandardWebhooksVerifier::new(["whsec_"]).is_none());
        assert!(StandardWebhooksVerifier::new(["", " "]).is_none());
    }

    #[test]
    fn the_window_is_five_minutes_both_ways() {
        let v = verifier(&[SECRET]);
        for (offset, ok) in [(-300i64, true), (300, true), (-301, false), (301, false)] {
            let ts = (NOW as i64 + offset).to_string();
            let result = verify(&v, ID, &ts, &sign(SECRET, ID, &ts, EVENT), EVENT, NOW);
            match ok {
                true => assert!(result.is_ok(), "{offset}"),
                false => assert_eq!(result.unwrap_err(), webhook::STALE_SIGNATURE, "{offset}"),
            }
        }
    }

    #[test]
    fn missing_and_garbled_headers_are_refused_without_panicking() {
        let v = verifier(&[SECRET]);
        let good = sign(SECRET, ID, TS, EVENT);
        let body = EVENT.as_bytes();
        assert_eq!(
            v.verify(None, Some(TS), Some(&good), body, NOW)
                .unwrap_err(),
            MISSING_SIGNATURE
        );
        assert_eq!(
            v.verify(Some(ID), None, Some(&good), body, NOW)
                .unwrap_err(),
            MISSING_SIGNATURE
        );
        assert_eq!(
            v.verify(Some(ID), Some(TS), None, body, NOW).unwrap_err(),
            MISSING_SIGNATURE
        );
        let long_id = "m".repeat(webhook::MAX_EVENT_ID_LEN + 1);
        let cases: [(&str, &str, String); 10] = [
            ("", TS, good.clone()),
            ("msg id", TS, good.clone()),
            (&long_id, TS, good.clone()),
            (ID, "", good.clone()),
            (ID, "1614265330.0", good.clone()),
            (ID, "-1614265330", good.clone()),
            (ID, TS, String::new()),
            (ID, TS, good.replace("v1,", "v1=")),
            (ID, TS, "v1,not*base64 v1,".to_owned()),
            (ID, TS, format!("{good}{}", " v2,x".repeat(1000))),
        ];
        for (id, ts, header) in cases {
            assert_eq!(
                v.verify(Some(id), Some(ts), Some(&header), body, NOW)
                    .unwrap_err(),
                MALFORMED_SIGNATURE,
                "{id:.20} {ts} {header:.40}"
            );
        }
    }

    #[test]
    fn a_signed_body_that_is_not_an_event_is_a_bad_request() {
        let v = verifier(&[SECRET]);
        for body in ["not json", "[]", "{}", r#"{"type":""}"#] {
            let refusal = verify(&v, ID, TS, &sign(SECRET, ID, TS, body), body, NOW).unwrap_err();
            assert_eq!(refusal, INVALID_PAYLOAD, "{body}");
        }
    }
}
