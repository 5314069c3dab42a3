//! Meta webhooks (WhatsApp Cloud API, Instagram, Messenger).
//!
//! Deliveries: `X-Hub-Signature-256: sha256=<hex>`, hex = HMAC-SHA256(app secret, raw body).
//! The legacy `X-Hub-Signature` (SHA-1) is not accepted. Nothing else is signed: no timestamp,
//! no delivery id.
//!
//! Subscription: `GET ?hub.mode=subscribe&hub.challenge=<n>&hub.verify_token=<token>`; the
//! endpoint answers the challenge when the token is one it configured.

use sha2::{Digest as _, Sha256};

use crate::principal::{VerifiedWebhook, WebhookProvider};
use crate::webhook::{self, HeaderFormat, HmacKeys, SharedSecrets, SignatureEncoding};
use crate::Refusal;

/// One `sha256=<hex>` entry; several (a proxy joining repeated headers with `,`) are all tried.
const FORMAT: HeaderFormat = HeaderFormat {
    entry_separator: ',',
    key_separator: '=',
    signature_key: "sha256",
    encoding: SignatureEncoding::Hex,
    timestamp_key: None,
};

const MISSING_SIGNATURE: Refusal = Refusal::unauthenticated(
    "missing_signature",
    "the X-Hub-Signature-256 header is required",
);
const MALFORMED_SIGNATURE: Refusal = Refusal::unauthenticated(
    "malformed_signature",
    "X-Hub-Signature-256 must be 'sha256=<hex>'",
);
const INVALID_PAYLOAD: Refusal = Refusal::bad_request(
    "invalid_payload",
    "the body is not a Meta webhook (a JSON object with 'object')",
);
const MALFORMED_SUBSCRIBE: Refusal = Refusal::bad_request(
    "malformed_subscribe_request",
    "a subscribe request needs one hub.mode, hub.verify_token and a hub.challenge of letters and digits",
);
const UNSUPPORTED_HUB_MODE: Refusal =
    Refusal::forbidden("unsupported_hub_mode", "hub.mode must be 'subscribe'");
const INVALID_VERIFY_TOKEN: Refusal =
    Refusal::forbidden("invalid_verify_token", "the verify token does not match");

/// The longest challenge echoed back (Meta sends an integer of about ten digits).
const MAX_CHALLENGE_LEN: usize = 128;

/// Checks `X-Hub-Signature-256` against the app secrets (current and, during a rotation, the
/// previous one), used as UTF-8.
pub struct MetaVerifier {
    keys: HmacKeys,
}

impl MetaVerifier {
    /// `None` when no app secret is configured.
    pub fn new<'a>(app_secrets: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        Some(Self {
            keys: HmacKeys::from_text(app_secrets)?,
        })
    }

    /// Verifies the signature over the exact raw body, then reads the JSON.
    ///
    /// Dedupe key: Meta signs no delivery id, so the [`VerifiedWebhook::event_id`] is
    /// `sha256:<hex of SHA-256(raw body)>`. A retry resends the same bytes, so it gets the same
    /// key, and two different deliveries cannot share one. It does not catch the same update
    /// arriving inside a differently batched body: per-message ids (`wamid.…`, `mid`) stay the
    /// handler's job. The event type is the body's `object` (`whatsapp_business_account`,
    /// `page`, `instagram`, …). Meta signs no timestamp; `entry[].time` inside the body is the
    /// only age bound, left to the handler.
    pub fn verify(
        &self,
        header: Option<&str>,
        raw_body: &[u8],
    ) -> Result<VerifiedWebhook, Refusal> {
        let header = FORMAT
            .parse(header.ok_or(MISSING_SIGNATURE)?)
            .map_err(|()| MALFORMED_SIGNATURE)?;
        if !self.keys.any_matches(&[raw_body], &header.signatures) {
            return Err(webhook::INVALID_SIGNATURE);
        }
        let (text, payload) = webhook::json_body(raw_body, INVALID_PAYLOAD)?;
        let object = payload
            .get("object")
            .and_then(serde_json::Value::as_str)
            .filter(|o| !o.is_empty())
            .ok_or(INVALID_PAYLOAD)?
            .to_owned();
        let event_id = format!("sha256:{}", hex::encode(Sha256::digest(raw_body)));
        Ok(VerifiedWebhook::new(
            WebhookProvider::Meta,
            event_id,
            object,
            None,
            payload,
            text,
        ))
    }
}

/// The subscribe handshake: the verify tokens configured in the Meta app dashboard.
pub struct MetaSubscription {
    verify_tokens: SharedSecrets,
}

impl MetaSubscription {
    /// Several tokens may be active during a rotation. `None` when none is configured.
    pub fn new<'a>(verify_tokens: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        Some(Self {
            verify_tokens: SharedSecrets::new(verify_tokens, 1)?,
        })
    }

    /// The challenge to answer with (200, `text/plain`, the challenge as the whole body) when
    /// `query` (the GET request's query string) is a subscribe request with a configured token.
    /// The challenge is echoed only when it is 1 to 128 ASCII letters, digits, `-` or `_`, so
    /// the echo can never carry markup.
    pub fn answer(&self, query: &str) -> Result<String, Refusal> {
        let value = |name| webhook::query_value(query, name).map_err(|()| MALFORMED_SUBSCRIBE);
        let mode = value("hub.mode")?.ok_or(MALFORMED_SUBSCRIBE)?;
        let token = value("hub.verify_token")?.ok_or(INVALID_VERIFY_TOKEN)?;
        let challenge = value("hub.challenge")?
            .filter(|c| {
                c.len() <= MAX_CHALLENGE_LEN
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .ok_or(MALFORMED_SUBSCRIBE)?;
        if mode != "subscribe" {
            return Err(UNSUPPORTED_HUB_MODE);
        }
        if !self.verify_tokens.matches(token.as_bytes()) {
            return Err(INVALID_VERIFY_TOKEN);
        }
        Ok(challenge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::test_support::hmac_sha256;

    // The spec's example (Meta publishes none): Meta escapes unicode, `/` and `@`.
    const SECRET: &str = "my_app_secret";
    const BODY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"0","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.X","text":{"body":"caf\u00e9 \/ a@b"}}]}}]}]}"#;
    const HEADER: &str = "sha256=8bf238b0fceee1a61a58e453e47c385a9246ea8901b758f9ac6cc18803df0052";

    fn verifier(secrets: &[&str]) -> MetaVerifier {
        MetaVerifier::new(secrets.iter().copied()).unwrap()
    }

    fn sign(secret: &str, body: &str) -> String {
        format!(
            "sha256={}",
            hex::encode(hmac_sha256(secret.as_bytes(), &[body.as_bytes()]))
        )
    }

    #[test]
    fn spec_example_verifies_and_carries_a_body_hash_as_its_id() {
        let event = verifier(&[SECRET])
            .verify(Some(HEADER), BODY.as_bytes())
            .unwrap();
        assert_eq!(event.provider().as_str(), "meta");
        assert_eq!(event.event_type(), "whatsapp_business_account");
        assert_eq!(
            event.event_id(),
            format!("sha256:{}", hex::encode(Sha256::digest(BODY)))
        );
        assert_eq!(event.raw_body(), BODY);
        assert_eq!(event.occurred_at(), None);
    }

    #[test]
    fn the_reserialised_body_does_not_match() {
        let reserialised =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(BODY).unwrap())
                .unwrap();
        assert!(reserialised.contains("café / a@b"));
        assert_eq!(
            verifier(&[SECRET])
                .verify(Some(HEADER), reserialised.as_bytes())
                .unwrap_err(),
            webhook::INVALID_SIGNATURE
        );
    }

    #[test]
    fn a_retry_of_the_same_bytes_has_the_same_id_and_another_body_another() {
        let v = verifier(&[SECRET]);
        let first = v.verify(Some(HEADER), BODY.as_bytes()).unwrap();
        let retry = v.verify(Some(HEADER), BODY.as_bytes()).unwrap();
        let other = BODY.replace("wamid.X", "wamid.Y");
        let other = v
            .verify(Some(&sign(SECRET, &other)), other.as_bytes())
            .unwrap();
        assert_eq!(first.event_id(), retry.event_id());
        assert_ne!(first.event_id(), other.event_id());
    }

    #[test]
    fn refuses_tampered_body_wrong_secret_and_sha1_header() {
        let v = verifier(&[SECRET]);
        let tampered = BODY.replace("wamid.X", "wamid.Z");
        assert_eq!(
            v.verify(Some(HEADER), tampered.as_bytes()).unwrap_err(),
            webhook::INVALID_SIGNATURE
        );
        assert_eq!(
            v.verify(Some(&sign("other", BODY)), BODY.as_bytes())
                .unwrap_err(),
            webhook::INVALID_SIGNATURE
        );
        let mut flipped = HEADER.to_owned();
        flipped.replace_range(7..8, "9");
        assert_eq!(
            v.verify(Some(&flipped), BODY.as_bytes()).unwrap_err(),
            webhook::INVALID_SIGNATURE
        );
        // Only the SHA-256 header form counts; the legacy `sha1=` key is not a signature here.
        assert_eq!(
            v.verify(Some(&HEADER.replace("sha256=", "sha1=")), BODY.as_bytes())
                .unwrap_err(),
            MALFORMED_SIGNATURE
        );
    }

    #[test]
    fn rotation_accepts_old_and_new_secret() {
        let v = verifier(&["new_secret", SECRET]);
        assert!(v.verify(Some(HEADER), BODY.as_bytes()).is_ok());
        assert!(v
            .verify(Some(&sign("new_secret", BODY)), BODY.as_bytes())
            .is_ok());
    }

    #[test]
    fn malformed_and_missing_headers_are_refused_without_panicking() {
        let v = verifier(&[SECRET]);
        assert_eq!(
            v.verify(None, BODY.as_bytes()).unwrap_err(),
            MISSING_SIGNATURE
        );
        for bad in [
            "",
            "sha256=",
            "sha256=xyz",
            "8bf238b0fceee1a61a58e453e47c385a9246ea8901b758f9ac6cc18803df0052",
            "sha256:8bf238b0fceee1a61a58e453e47c385a9246ea8901b758f9ac6cc18803df0052",
            ",,,=,==",
            "sha256=8bf238b0fceee1a61a58e453e47c385a9246ea8901b758f9ac6cc18803df00",
        ] {
            assert_eq!(
                v.verify(Some(bad), BODY.as_bytes()).unwrap_err(),
                MALFORMED_SIGNATURE,
                "{bad}"
            );
        }
        // Repeated headers joined by a proxy: every entry is tried.
        let joined = format!("sha256=zz, sha256={}, {HEADER}", "00".repeat(32));
        assert!(v.verify(Some(&joined), BODY.as_bytes()).is_ok());
        let oversize = format!("{HEADER}{}", ",x".repeat(3000));
        assert_eq!(
            v.verify(Some(&oversize), BODY.as_bytes()).unwrap_err(),
            MALFORMED_SIGNATURE
        );
    }

    #[test]
    fn a_signed_body_that_is_not_a_meta_object_is_a_bad_request() {
        let v = verifier(&[SECRET]);
        for body in [
            "not json",
            "[]",
            "{}",
            r#"{"object":""}"#,
            r#"{"object":1}"#,
        ] {
            assert_eq!(
                v.verify(Some(&sign(SECRET, body)), body.as_bytes())
                    .unwrap_err(),
                INVALID_PAYLOAD,
                "{body}"
            );
        }
    }

    fn subscription() -> MetaSubscription {
        MetaSubscription::new(["new-token", "old-token"]).unwrap()
    }

    #[test]
    fn handshake_answers_the_challenge_for_any_configured_token() {
        for token in ["new-token", "old-token"] {
            let query =
                format!("?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}");
            assert_eq!(subscription().answer(&query).unwrap(), "1158201444");
        }
        // Percent-encoded tokens are decoded before the comparison.
        let s = MetaSubscription::new(["a b/c"]).unwrap();
        assert_eq!(
            s.answer("hub.verify_token=a+b%2Fc&hub.mode=subscribe&hub.challenge=7")
                .unwrap(),
            "7"
        );
    }

    #[test]
    fn handshake_refusals() {
        let s = subscription();
        let cases = [
            ("hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong", INVALID_VERIFY_TOKEN),
            ("hub.mode=subscribe&hub.challenge=1&hub.verify_token=new-toke", INVALID_VERIFY_TOKEN),
            ("hub.mode=subscribe&hub.challenge=1", INVALID_VERIFY_TOKEN),
            ("hub.mode=subscribe&hub.challenge=1&hub.verify_token=", INVALID_VERIFY_TOKEN),
            ("hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=new-token", UNSUPPORTED_HUB_MODE),
            ("hub.challenge=1&hub.verify_token=new-token", MALFORMED_SUBSCRIBE),
            ("hub.mode=subscribe&hub.verify_token=new-token", MALFORMED_SUBSCRIBE),
            ("hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=new-token", MALFORMED_SUBSCRIBE),
            ("hub.mode=subscribe&hub.challenge=1&hub.challenge=2&hub.verify_token=new-token", MALFORMED_SUBSCRIBE),
            ("hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong&hub.verify_token=new-token", MALFORMED_SUBSCRIBE),
            ("", MALFORMED_SUBSCRIBE),
            ("%%%&&&===", MALFORMED_SUBSCRIBE),
        ];
        for (query, expected) in cases {
            assert_eq!(s.answer(query).unwrap_err(), expected, "{query}");
        }
        let long = format!(
            "hub.mode=subscribe&hub.verify_token=new-token&hub.challenge={}",
            "1".repeat(MAX_CHALLENGE_LEN + 1)
        );
        assert_eq!(s.answer(&long).unwrap_err(), MALFORMED_SUBSCRIBE);
        assert_eq!(
            (
                INVALID_VERIFY_TOKEN.status,
                UNSUPPORTED_HUB_MODE.status,
                MALFORMED_SUBSCRIBE.status
            ),
            (403, 403, 400)
        );
    }
}
