//! What every webhook scheme shares: the configured keys, one parser for signature headers, an
//! HMAC-SHA256 check in constant time against every presented signature, the time window, the
//! JSON body, and the refusals with their stable codes.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use crate::Refusal;

/// An HMAC-SHA256 output.
pub(crate) type Digest = [u8; 32];

/// Longer signature headers are refused before parsing: real ones are under 200 bytes, and the
/// cap bounds the work an unauthenticated caller can ask for.
pub(crate) const MAX_SIGNATURE_HEADER_BYTES: usize = 4096;

/// The longest dedupe key a verifier hands out (`webhook_events.event_id` allows 1 to 200).
pub(crate) const MAX_EVENT_ID_LEN: usize = 200;

/// Standard base64 that accepts padded and unpadded input (secrets are often pasted unpadded).
pub(crate) const BASE64_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) const INVALID_SIGNATURE: Refusal =
    Refusal::unauthenticated("invalid_signature", "the signature does not match");
pub(crate) const STALE_SIGNATURE: Refusal = Refusal::unauthenticated(
    "stale_signature",
    "the signature timestamp is outside the allowed window",
);

/// The HMAC keys of one endpoint: the current one and, during a rotation, the previous ones.
pub(crate) struct HmacKeys {
    /// Keyed once at configuration; each check clones the keyed state.
    keyed: Vec<Hmac<Sha256>>,
}

impl HmacKeys {
    /// `None` when no key is given: the caller must then refuse to serve.
    pub(crate) fn new(keys: impl IntoIterator<Item = Vec<u8>>) -> Option<Self> {
        let keyed: Vec<Hmac<Sha256>> = keys
            .into_iter()
            .filter(|key| !key.is_empty())
            .map(|key| {
                <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes a key of any length")
            })
            .collect();
        (!keyed.is_empty()).then_some(Self { keyed })
    }

    /// Keys that are the secrets' UTF-8 bytes (trimmed; blank entries skipped).
    pub(crate) fn from_text<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        Self::new(secrets.into_iter().map(|s| s.trim().as_bytes().to_vec()))
    }

    /// Whether any presented signature equals HMAC(any key, the concatenated `message` parts).
    /// Every key and every signature is compared (no early exit), so timing tells nothing about
    /// which one matched or how much of it did.
    pub(crate) fn any_matches(&self, message: &[&[u8]], presented: &[Digest]) -> bool {
        let mut matched = Choice::from(0);
        for keyed in &self.keyed {
            let mut mac = keyed.clone();
            for part in message {
                mac.update(part);
            }
            let expected = mac.finalize().into_bytes();
            for candidate in presented {
                matched |= expected.as_slice().ct_eq(candidate);
            }
        }
        matched.into()
    }
}

/// Plain shared secrets compared as presented (cron secret, Meta verify token).
pub(crate) struct SharedSecrets {
    secrets: Vec<Vec<u8>>,
}

impl SharedSecrets {
    /// Trimmed; entries shorter than `min_len` are dropped. `None` when none is left.
    pub(crate) fn new<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        min_len: usize,
    ) -> Option<Self> {
        let secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() >= min_len)
            .map(|s| s.as_bytes().to_vec())
            .collect();
        (!secrets.is_empty()).then_some(Self { secrets })
    }

    /// Constant-time comparison against every secret, no early exit.
    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        self.secrets
            .iter()
            .fold(Choice::from(0), |acc, secret| {
                acc | secret.as_slice().ct_eq(presented)
            })
            .into()
    }
}

/// How one scheme writes its signature header.
pub(crate) struct HeaderFormat {
    /// Between entries: `;` (Paddle), `,` (Mercado Pago, Meta), ` ` (Standard Webhooks).
    pub entry_separator: char,
    /// Between an entry's key and value (the first one counts): `=`, or `,` for Standard Webhooks.
    pub key_separator: char,
    /// The key of the signatures we verify (`h1`, `v1`, `sha256`); other keys are ignored.
    pub signature_key: &'static str,
    pub encoding: SignatureEncoding,
    /// The key of the signed timestamp, for schemes that put it in the same header.
    pub timestamp_key: Option<&'static str>,
}

#[derive(Clone, Copy)]
pub(crate) enum SignatureEncoding {
    Hex,
    Base64,
}

/// A parsed signature header: the timestamp text exactly as received, and every signature.
#[derive(Debug)]
pub(crate) struct SignatureHeader<'h> {
    pub timestamp: Option<&'h str>,
    pub signatures: Vec<Digest>,
}

impl HeaderFormat {
    /// Collects EVERY signature under `signature_key` (a value that does not decode to 32 bytes
    /// cannot match and is skipped, so the others stay usable). `Err` when the header is too
    /// long, carries no usable signature, lacks its timestamp, or carries two timestamps (which
    /// one was signed?).
    pub(crate) fn parse<'h>(&self, header: &'h str) -> Result<SignatureHeader<'h>, ()> {
        if header.len() > MAX_SIGNATURE_HEADER_BYTES {
            return Err(());
        }
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for entry in header.split(self.entry_separator) {
            let Some((key, value)) = entry.split_once(self.key_separator) else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if key == self.signature_key {
                signatures.extend(self.decode(value));
            } else if Some(key) == self.timestamp_key && timestamp.replace(value).is_some() {
                return Err(());
            }
        }
        if signatures.is_empty() || (self.timestamp_key.is_some() && timestamp.is_none()) {
            return Err(());
        }
        Ok(SignatureHeader {
            timestamp,
            signatures,
        })
    }

    fn decode(&self, value: &str) -> Option<Digest> {
        let bytes = match self.encoding {
            SignatureEncoding::Hex => hex::decode(value).ok()?,
            SignatureEncoding::Base64 => BASE64_ANY_PADDING.decode(value).ok()?,
        };
        bytes.try_into().ok()
    }
}

/// A unix timestamp written as 1 to 13 ASCII digits (13 for milliseconds), nothing else.
pub(crate) fn parse_unix_timestamp(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 13 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Refuses a timestamp more than `tolerance_secs` away from `now_unix`, in either direction
/// (a future timestamp would stretch the replay window as much as an old one).
pub(crate) fn check_window(
    ts_unix: u64,
    now_unix: u64,
    tolerance_secs: u64,
) -> Result<(), Refusal> {
    if ts_unix.abs_diff(now_unix) > tolerance_secs {
        return Err(STALE_SIGNATURE);
    }
    Ok(())
}

/// The signed body as UTF-8 text and parsed JSON; `invalid` otherwise.
pub(crate) fn json_body(
    raw_body: &[u8],
    invalid: Refusal,
) -> Result<(String, serde_json::Value), Refusal> {
    let text = std::str::from_utf8(raw_body).map_err(|_| invalid.clone())?;
    let payload = serde_json::from_str(text).map_err(|_| invalid)?;
    Ok((text.to_owned(), payload))
}

/// A timestamp that Postgres will read as exactly one instant: RFC 3339 only. (`timestamptz`
/// also accepts words such as `now`, `yesterday` or `infinity`, which a signed body must not
/// be able to smuggle into an ordering column.)
pub fn is_rfc3339(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// The single value of `name` in a query string (`a=1&b=2`, a leading `?` allowed),
/// percent-decoded. `Ok(None)` when absent or empty, `Err` when given twice (ambiguous: which
/// one did the sender sign or mean?).
pub(crate) fn query_value(query: &str, name: &str) -> Result<Option<String>, ()> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut found = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == name && found.replace(value).is_some() {
            return Err(());
        }
    }
    Ok(found.filter(|v| !v.is_empty()).map(|v| v.into_owned()))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// HMAC-SHA256 of the concatenated parts, computed independently of [`HmacKeys`].
    pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Digest {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PADDLE_LIKE: HeaderFormat = HeaderFormat {
        entry_separator: ';',
        key_separator: '=',
        signature_key: "h1",
        encoding: SignatureEncoding::Hex,
        timestamp_key: Some("ts"),
    };

    #[test]
    fn parse_collects_every_signature_and_skips_garbled_ones() {
        let good = "ab".repeat(32);
        let header = format!("ts=1;h1=zz;h1={good};x=1;h1= {good} ;h1=abcd;;=;h1");
        let parsed = PADDLE_LIKE.parse(&header).unwrap();
        assert_eq!(parsed.timestamp, Some("1"));
        assert_eq!(parsed.signatures, vec![[0xab; 32], [0xab; 32]]);
    }

    #[test]
    fn parse_refuses_two_timestamps_none_or_no_signature_and_oversize() {
        let h1 = format!("h1={}", "00".repeat(32));
        for bad in [
            format!("ts=1;ts=1;{h1}"),
            h1.clone(),
            "ts=1;h1=00".to_owned(),
            format!("ts=1;{h1};{}", "x".repeat(MAX_SIGNATURE_HEADER_BYTES)),
        ] {
            assert!(PADDLE_LIKE.parse(&bad).is_err(), "{bad:.40}");
        }
    }

    #[test]
    fn any_matches_needs_the_right_key_and_the_exact_message() {
        let keys = HmacKeys::from_text(["old", " new "]).unwrap();
        let sig = test_support::hmac_sha256(b"new", &[b"a:b"]);
        assert!(keys.any_matches(&[b"a", b":", b"b"], &[[0; 32], sig]));
        assert!(!keys.any_matches(&[b"a", b":", b"c"], &[sig]));
        assert!(!HmacKeys::from_text(["other"])
            .unwrap()
            .any_matches(&[b"a:b"], &[sig]));
        assert!(HmacKeys::from_text(["", "  "]).is_none());
    }

    #[test]
    fn timestamps_are_digits_only() {
        assert_eq!(parse_unix_timestamp("1700000000"), Some(1_700_000_000));
        assert_eq!(
            parse_unix_timestamp("1742505638683"),
            Some(1_742_505_638_683)
        );
        for bad in ["", "-1", "+1", "1.5", "1e9", " 1", "12345678901234", "١٢"] {
            assert_eq!(parse_unix_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn window_is_two_sided() {
        assert!(check_window(100, 100, 5).is_ok());
        assert!(check_window(95, 100, 5).is_ok());
        assert!(check_window(105, 100, 5).is_ok());
        assert_eq!(check_window(94, 100, 5), Err(STALE_SIGNATURE));
        assert_eq!(check_window(106, 100, 5), Err(STALE_SIGNATURE));
    }

    #[test]
    fn rfc3339_only() {
        assert!(is_rfc3339("2026-11-23T10:00:00Z"));
        assert!(is_rfc3339("2026-11-23T10:00:00.123456+02:00"));
        for bad in [
            "now",
            "yesterday",
            "infinity",
            "-infinity",
            "epoch",
            "2026-11-23",
            "2026-13-01T00:00:00Z",
            "2026-11-23T10:00:00",
            "",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn query_value_decodes_and_refuses_duplicates() {
        assert_eq!(
            query_value("?data.id=ab%2Fc&type=payment", "data.id"),
            Ok(Some("ab/c".to_owned()))
        );
        assert_eq!(query_value("type=payment", "data.id"), Ok(None));
        assert_eq!(query_value("data.id=", "data.id"), Ok(None));
        assert_eq!(query_value("data.id=1&data.id=2", "data.id"), Err(()));
        assert_eq!(query_value("%zz=&&==", "data.id"), Ok(None));
    }
}
