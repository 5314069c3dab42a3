//! Mercado Pago webhooks: `x-signature: ts=<ts>,v1=<hex>` and `x-request-id: <uuid>`, where
//! hex = HMAC-SHA256(secret signature, "id:<data.id>;request-id:<x-request-id>;ts:<ts>;").
//! `data.id` comes from the query string of the notification URL; a part that is absent drops
//! its whole segment. The body itself is NOT signed by this scheme.

use serde_json::Value;

use crate::principal::{VerifiedWebhook, WebhookProvider};
use crate::webhook::{self, HeaderFormat, HmacKeys, SignatureEncoding};
use crate::Refusal;

/// Mercado Pago documents no window; five minutes covers clock skew and slow delivery.
pub const MERCADOPAGO_DEFAULT_TOLERANCE_SECS: u64 = 300;
/// The widest window a deployment may configure.
const MAX_TOLERANCE_SECS: u64 = 3600;
/// A `ts` above this is in milliseconds (1e11 seconds is the year 5138).
const MILLISECONDS_ABOVE: u64 = 100_000_000_000;

const FORMAT: HeaderFormat = HeaderFormat {
    entry_separator: ',',
    key_separator: '=',
    signature_key: "v1",
    encoding: SignatureEncoding::Hex,
    timestamp_key: Some("ts"),
};

const MISSING_SIGNATURE: Refusal =
    Refusal::unauthenticated("missing_signature", "the x-signature header is required");
const MALFORMED_SIGNATURE: Refusal = Refusal::unauthenticated(
    "malformed_signature",
    "x-signature must be 'ts=<ts>,v1=<hex>'",
);
const INVALID_QUERY: Refusal = Refusal::bad_request(
    "invalid_query",
    "the notification URL must carry data.id at most once",
);
const INVALID_PAYLOAD: Refusal = Refusal::bad_request(
    "invalid_payload",
    "the body is not a Mercado Pago notification (id, type or action, data.id)",
);
const PAYLOAD_MISMATCH: Refusal = Refusal::bad_request(
    "payload_mismatch",
    "the body's data.id differs from the signed data.id of the URL",
);

/// Checks `x-signature` against the integration's secret signatures (current and, during a
/// rotation, the previous one), used as UTF-8.
pub struct MercadoPagoVerifier {
    keys: HmacKeys,
    tolerance_secs: u64,
}

impl MercadoPagoVerifier {
    /// `None` when no secret is configured. The window is capped at one hour.
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        tolerance_secs: u64,
    ) -> Option<Self> {
        Some(Self {
            keys: HmacKeys::from_text(secrets)?,
            tolerance_secs: tolerance_secs.min(MAX_TOLERANCE_SECS),
        })
    }

    /// Verifies the signed manifest, then reads the notification.
    ///
    /// `query` is the POST URL's query string (`data.id=…&type=…`, leading `?` optional).
    /// `ts` may be seconds or milliseconds. The id is accepted as received or lowercased (the
    /// providers' SDKs disagree on its case).
    ///
    /// Because the body is not signed, the verified facts are only `data.id`, the request id
    /// and the time: the body's `data.id` must equal the signed one, and a handler must act on
    /// the resource fetched from Mercado Pago's API by the signed `data.id`
    /// ([`VerifiedWebhook::resource_id`], `None` when the URL carried none), never on the body's
    /// claims. Dedupe key ([`VerifiedWebhook::event_id`]): `<data.id>:<x-request-id>:<ts>`, built
    /// from the signed parts only, so a captured signature replayed with another body is the same
    /// event (a duplicate), never a new one.
    pub fn verify(
        &self,
        signature: Option<&str>,
        request_id: Option<&str>,
        query: &str,
        raw_body: &[u8],
        now_unix: u64,
    ) -> Result<VerifiedWebhook, Refusal> {
        let header = FORMAT
            .parse(signature.ok_or(MISSING_SIGNATURE)?)
            .map_err(|()| MALFORMED_SIGNATURE)?;
        let ts_text = header.timestamp.unwrap_or_default();
        let ts = webhook::parse_unix_timestamp(ts_text).ok_or(MALFORMED_SIGNATURE)?;
        let ts_secs = if ts > MILLISECONDS_ABOVE {
            ts / 1000
        } else {
            ts
        };
        webhook::check_window(ts_secs, now_unix, self.tolerance_secs)?;

        let data_id = webhook::query_value(query, "data.id").map_err(|()| INVALID_QUERY)?;
        let request_id = request_id.map(str::trim).filter(|r| !r.is_empty());
        let signed = |id: Option<&str>| {
            let manifest = manifest(id, request_id, ts_text);
            self.keys
                .any_matches(&[manifest.as_bytes()], &header.signatures)
        };
        let lowercase = data_id.as_deref().map(str::to_lowercase);
        let matched =
            signed(data_id.as_deref()) | (lowercase != data_id && signed(lowercase.as_deref()));
        if !matched {
            return Err(webhook::INVALID_SIGNATURE);
        }
        let event_id = format!(
            "{}:{}:{ts_text}",
            data_id.as_deref().unwrap_or_default(),
            request_id.unwrap_or_default()
        );
        read_notification(raw_body, data_id, event_id)
    }
}

/// `id:<data.id>;request-id:<request id>;ts:<ts>;`, each absent part dropped with its label.
fn manifest(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
    let mut manifest = String::new();
    if let Some(id) = data_id {
        manifest += &format!("id:{id};");
    }
    if let Some(request_id) = request_id {
        manifest += &format!("request-id:{request_id};");
    }
    manifest + &format!("ts:{ts};")
}

/// A JSON string, or a number written as text (Mercado Pago sends ids both ways).
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_notification(
    raw_body: &[u8],
    signed_data_id: Option<String>,
    event_id: String,
) -> Result<VerifiedWebhook, Refusal> {
    let (text, payload) = webhook::json_body(raw_body, INVALID_PAYLOAD)?;
    let field = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    // A notification has its own id; the dedupe key no longer uses it (it is unsigned).
    id_text(payload.get("id")).ok_or(INVALID_PAYLOAD)?;
    let kind = field("type").unwrap_or_default();
    let action = field("action").unwrap_or_default();
    let body_data_id = id_text(payload.get("data").and_then(|d| d.get("id")));
    if let (Some(signed), Some(body)) = (&signed_data_id, &body_data_id) {
        if !signed.eq_ignore_ascii_case(body) {
            return Err(PAYLOAD_MISMATCH);
        }
    }
    let event_type = if action.is_empty() { kind } else { action };
    // The key holds the signed data.id, so this also bounds it.
    if event_type.is_empty() || event_id.len() > webhook::MAX_EVENT_ID_LEN {
        return Err(INVALID_PAYLOAD);
    }
    // Kept only when Postgres will read it as one instant; the field is informative here.
    let occurred_at = field("date_created")
        .filter(|d| webhook::is_rfc3339(d))
        .map(str::to_owned);
    Ok(VerifiedWebhook::new(
        WebhookProvider::MercadoPago,
        event_id,
        event_type.to_owned(),
        occurred_at,
        payload,
        text,
    )
    .with_resource_id(signed_data_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::test_support::hmac_sha256;

    // The official SDKs' test inputs (shared/specs/webhooks.md).
    const SECRET: &str = "your_secret_key_here";
    const REQUEST_ID: &str = "2066ca19-c6f1-498a-be75-1923005edd06";
    const TS: &str = "1742505638683";
    const NOW: u64 = 1_742_505_638;
    const ID_LOWER: &str = "ord01jq4s4ky8hwq6na5pxb65b3d3";
    const ID_UPPER: &str = "ORD01JQ4S4KY8HWQ6NA5PXB65B3D3";
    const V1_LOWER_ID: &str = "633f91233312dd391ec75fa0bea539cfc2d6c4918873305b84a96cc1c58db71c";
    const V1_UPPER_ID: &str = "fb15ae6472eb449173c556793205d77787d58f384d183bb5bc3b724c27bd103c";
    const V1_NO_ID: &str = "8a7b0cc777a8217c3bab41a50c95dc92debbc6f8448f1c967dfe10ac1cb8b894";
    const V1_NO_REQUEST_ID: &str =
        "a20c44820ab71562e89a7c9f64d5636efc8beba587b16c2f9bbbc3504892741a";

    fn verifier(secrets: &[&str]) -> MercadoPagoVerifier {
        MercadoPagoVerifier::new(secrets.iter().copied(), MERCADOPAGO_DEFAULT_TOLERANCE_SECS)
            .unwrap()
    }

    fn body(data_id: &str) -> String {
        format!(
            r#"{{"action":"order.updated","api_version":"v1","data":{{"id":"{data_id}"}},"date_created":"2025-03-20T21:20:38Z","id":123456,"live_mode":false,"type":"order","user_id":"1"}}"#
        )
    }

    fn sign(secret: &str, data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
        let manifest = manifest(data_id, request_id, ts);
        let v1 = hmac_sha256(secret.as_bytes(), &[manifest.as_bytes()]);
        format!("ts={ts},v1={}", hex::encode(v1))
    }

    fn query(id: &str) -> String {
        format!("?data.id={id}&type=order")
    }

    #[test]
    fn manifest_drops_absent_segments() {
        assert_eq!(
            manifest(Some("D"), Some("R"), "T"),
            "id:D;request-id:R;ts:T;"
        );
        assert_eq!(manifest(None, Some("R"), "T"), "request-id:R;ts:T;");
        assert_eq!(manifest(Some("D"), None, "T"), "id:D;ts:T;");
        assert_eq!(manifest(None, None, "T"), "ts:T;");
    }

    #[test]
    fn official_vectors_verify() {
        let v = verifier(&[SECRET]);
        let lower = body(ID_LOWER);
        let header = format!("ts={TS},v1={V1_LOWER_ID}");
        let event = v
            .verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_LOWER),
                lower.as_bytes(),
                NOW,
            )
            .unwrap();
        assert_eq!(event.provider().as_str(), "mercadopago");
        assert_eq!(event.event_id(), format!("{ID_LOWER}:{REQUEST_ID}:{TS}"));
        assert_eq!(event.resource_id(), Some(ID_LOWER));
        assert_eq!(event.event_type(), "order.updated");
        assert_eq!(event.occurred_at(), Some("2025-03-20T21:20:38Z"));

        // Original case: the upper-case id signed as received.
        let upper = body(ID_UPPER);
        let header = format!("ts={TS},v1={V1_UPPER_ID}");
        assert!(v
            .verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_UPPER),
                upper.as_bytes(),
                NOW
            )
            .is_ok());
        // Lower-case signing of an upper-case id in the URL (the older documentation's rule).
        let header = format!("ts={TS},v1={V1_LOWER_ID}");
        assert!(v
            .verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_UPPER),
                upper.as_bytes(),
                NOW
            )
            .is_ok());

        // No data.id in the URL: the id segment is dropped.
        let header = format!("ts={TS},v1={V1_NO_ID}");
        assert!(v
            .verify(
                Some(&header),
                Some(REQUEST_ID),
                "type=order",
                lower.as_bytes(),
                NOW
            )
            .is_ok());
        // No x-request-id (absent or blank): its segment is dropped.
        let header = format!("ts={TS},v1={V1_NO_REQUEST_ID}");
        for request_id in [None, Some(""), Some("  ")] {
            assert!(v
                .verify(
                    Some(&header),
                    request_id,
                    &query(ID_LOWER),
                    lower.as_bytes(),
                    NOW
                )
                .is_ok());
        }
    }

    #[test]
    fn a_lowercase_url_id_does_not_verify_an_uppercase_signature() {
        // Only "as received" and "lowercased" are tried, never "uppercased".
        let header = format!("ts={TS},v1={V1_UPPER_ID}");
        let err = verifier(&[SECRET])
            .verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_LOWER),
                body(ID_LOWER).as_bytes(),
                NOW,
            )
            .unwrap_err();
        assert_eq!(err, webhook::INVALID_SIGNATURE);
    }

    #[test]
    fn refuses_tampered_parts_and_wrong_secret() {
        let v = verifier(&[SECRET]);
        let good = format!("ts={TS},v1={V1_LOWER_ID}");
        let b = body(ID_LOWER);
        let other_id = "ord01jq4s4ky8hwq6na5pxb65b3d4";
        let cases = [
            (good.clone(), REQUEST_ID, query(other_id), body(other_id)),
            (
                good.clone(),
                "2066ca19-c6f1-498a-be75-1923005edd07",
                query(ID_LOWER),
                b.clone(),
            ),
            (
                good.replace("ts=1742505638683", "ts=1742505638684"),
                REQUEST_ID,
                query(ID_LOWER),
                b.clone(),
            ),
            (
                good.replace("v1=6", "v1=7"),
                REQUEST_ID,
                query(ID_LOWER),
                b.clone(),
            ),
            (
                sign("not_the_secret", Some(ID_LOWER), Some(REQUEST_ID), TS),
                REQUEST_ID,
                query(ID_LOWER),
                b.clone(),
            ),
        ];
        for (header, request_id, query, body) in cases {
            assert_eq!(
                v.verify(
                    Some(&header),
                    Some(request_id),
                    &query,
                    body.as_bytes(),
                    NOW
                )
                .unwrap_err(),
                webhook::INVALID_SIGNATURE,
                "{header} {request_id} {query}"
            );
        }
    }

    #[test]
    fn rotation_accepts_old_and_new_secret() {
        let v = verifier(&["new_secret", SECRET]);
        let b = body(ID_LOWER);
        for secret in ["new_secret", SECRET] {
            let header = sign(secret, Some(ID_LOWER), Some(REQUEST_ID), TS);
            assert!(v
                .verify(
                    Some(&header),
                    Some(REQUEST_ID),
                    &query(ID_LOWER),
                    b.as_bytes(),
                    NOW
                )
                .is_ok());
        }
    }

    #[test]
    fn timestamps_in_seconds_or_milliseconds_and_the_window_both_ways() {
        let v = verifier(&[SECRET]);
        let b = body(ID_LOWER);
        let check = |ts: String, now: u64| {
            let header = sign(SECRET, Some(ID_LOWER), Some(REQUEST_ID), &ts);
            v.verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_LOWER),
                b.as_bytes(),
                now,
            )
            .map(|_| ())
        };
        let now = 1_800_000_000;
        assert_eq!(check(now.to_string(), now), Ok(()));
        assert_eq!(check(format!("{now}123"), now), Ok(()));
        assert_eq!(check((now - 300).to_string(), now), Ok(()));
        assert_eq!(check(format!("{}000", now + 300), now), Ok(()));
        for stale in [
            (now - 301).to_string(),
            (now + 301).to_string(),
            format!("{}000", now - 301),
            format!("{}999", now + 301),
            "0".to_owned(),
        ] {
            assert_eq!(
                check(stale.clone(), now),
                Err(webhook::STALE_SIGNATURE),
                "{stale}"
            );
        }
        let wide = MercadoPagoVerifier::new([SECRET], 900).unwrap();
        let header = sign(
            SECRET,
            Some(ID_LOWER),
            Some(REQUEST_ID),
            &(now - 800).to_string(),
        );
        assert!(wide
            .verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_LOWER),
                b.as_bytes(),
                now
            )
            .is_ok());
    }

    #[test]
    fn malformed_headers_and_queries_are_refused_without_panicking() {
        let v = verifier(&[SECRET]);
        let b = body(ID_LOWER);
        let attempt = |header: Option<&str>, query: &str| {
            v.verify(header, Some(REQUEST_ID), query, b.as_bytes(), NOW)
                .unwrap_err()
        };
        assert_eq!(attempt(None, &query(ID_LOWER)), MISSING_SIGNATURE);
        for bad in [
            String::new(),
            format!("v1={V1_LOWER_ID}"),
            format!("ts={TS}"),
            format!("ts={TS},ts={TS},v1={V1_LOWER_ID}"),
            format!("ts=17425056386.5,v1={V1_LOWER_ID}"),
            format!("ts=-1,v1={V1_LOWER_ID}"),
            format!("ts={TS},v1=not-hex"),
            format!("ts={TS},v1={}", &V1_LOWER_ID[..60]),
            format!("ts={TS};v1={V1_LOWER_ID}"),
            ",,,==,=".to_owned(),
            format!("ts={TS},v1={V1_LOWER_ID}{}", ",v2=x".repeat(1000)),
        ] {
            assert_eq!(
                attempt(Some(&bad), &query(ID_LOWER)),
                MALFORMED_SIGNATURE,
                "{bad:.60}"
            );
        }
        // Unknown keys (a future v2) and spaces around parts are fine.
        let header = format!(" ts = {TS} , v2=abc, v1 = {V1_LOWER_ID} ");
        assert!(v
            .verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_LOWER),
                b.as_bytes(),
                NOW
            )
            .is_ok());
        let header = format!("ts={TS},v1={V1_LOWER_ID}");
        assert_eq!(
            attempt(Some(&header), &format!("data.id={ID_LOWER}&data.id=other")),
            INVALID_QUERY
        );
    }

    #[test]
    fn the_unsigned_body_must_agree_with_the_signed_id_and_be_a_notification() {
        let v = verifier(&[SECRET]);
        let header = format!("ts={TS},v1={V1_LOWER_ID}");
        let attempt = |body: &str| {
            v.verify(
                Some(&header),
                Some(REQUEST_ID),
                &query(ID_LOWER),
                body.as_bytes(),
                NOW,
            )
        };
        assert_eq!(
            attempt(&body("ord_someone_else")).unwrap_err(),
            PAYLOAD_MISMATCH
        );
        assert!(attempt(&body(ID_UPPER)).is_ok());
        // The scheme does not sign the body: other fields can change under a valid signature.
        // This is why the handler must fetch the resource by data.id (documented on verify).
        let altered = attempt(&body(ID_LOWER).replace("order.updated", "order.deleted")).unwrap();
        assert_eq!(altered.event_type(), "order.deleted");
        // ... but the dedupe key is made of the signed parts only: the same event as the original.
        let original = attempt(&body(ID_LOWER)).unwrap();
        assert_eq!(altered.event_id(), original.event_id());
        assert_eq!(altered.resource_id(), Some(ID_LOWER));
        for bad in [
            "not json",
            "[]",
            r#"{"type":"payment"}"#,
            r#"{"id":"","type":"payment"}"#,
            r#"{"id":1}"#,
        ] {
            assert_eq!(attempt(bad).unwrap_err(), INVALID_PAYLOAD, "{bad}");
        }
        let minimal = attempt(r#"{"id":"9","type":"payment","date_created":"yesterday"}"#).unwrap();
        assert_eq!(minimal.event_id(), format!("{ID_LOWER}:{REQUEST_ID}:{TS}"));
        assert_eq!(minimal.event_type(), "payment");
        assert_eq!(minimal.occurred_at(), None);
    }
}
