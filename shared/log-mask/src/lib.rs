//! What may reach a log, decided once. [`Masker::mask`] rewrites any string so that:
//!
//! - every configured secret value (at least [`MIN_SECRET_LEN`] characters) becomes `[secret]`;
//! - JWTs (`eyJ…` with three dot-separated parts) become `[jwt]`; `Bearer <anything>` becomes
//!   `Bearer [redacted]`; platform API keys `rlse_…` become `rlse_[redacted]`;
//! - webhook signature values (`h1=`, `v1=`, `v1,`, `sha256=`, `signature=`) become
//!   `<name>=[redacted]`;
//! - e-mail addresses keep their first character and top-level domain: `j***@***.com`;
//! - phone numbers keep their last two digits: E.164 (`+` and 8 to 15 digits, single spaces or
//!   dashes between groups allowed) `+***67`, and WhatsApp ids (a bare run of 10 to 15 digits,
//!   not part of a word, a uuid or a decimal) `***67`.
//!
//! [`json_line`] builds the platform's one log format: a JSON object per line with `level`,
//! `event` and the caller's fields, every string in it masked, and body-like fields withheld.

use serde_json::{Map, Value};

/// Shorter configured values are not treated as secrets (masking `1` or `true` everywhere
/// would garble every line and protect nothing).
pub const MIN_SECRET_LEN: usize = 8;

/// Field names that would carry a request or response body: never logged, whatever the caller
/// passes.
pub const BODY_FIELDS: &[&str] = &[
    "body",
    "payload",
    "raw_body",
    "request_body",
    "response_body",
];

/// Masks PII and redacts credentials, including the deployment's own secret values.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Longest first, so a secret containing another is replaced whole.
    secrets: Vec<String>,
}

impl Masker {
    /// A masker that also redacts each of `secrets` (values shorter than [`MIN_SECRET_LEN`] are
    /// ignored).
    pub fn new<S: Into<String>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with every secret, credential, e-mail and phone number masked.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "[secret]");
            }
        }
        mask_pii_and_credentials(&out)
    }

    /// Masks every string (keys included) inside a JSON value.
    pub fn mask_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.mask(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.mask_json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.mask(k), self.mask_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One structured log line: `{"level":…,"event":…,<fields>}`, every string masked by `masker`,
/// any field named in [`BODY_FIELDS`] replaced by `"[withheld]"`.
pub fn json_line(masker: &Masker, level: Level, event: &str, fields: &[(&str, Value)]) -> String {
    let mut line = Map::new();
    line.insert("level".into(), level.as_str().into());
    line.insert("event".into(), masker.mask(event).into());
    for (name, value) in fields {
        let value = if BODY_FIELDS.contains(&name.to_ascii_lowercase().as_str()) {
            Value::String("[withheld]".into())
        } else {
            masker.mask_json(value)
        };
        line.insert(masker.mask(name), value);
    }
    Value::Object(line).to_string()
}

/// PII and credential masking without configured secrets (for `Debug` output of principals).
pub fn mask_pii_and_credentials(text: &str) -> String {
    let text = redact_bearer(text);
    let text = redact_jwts(&text);
    let text = redact_after_prefix(&text, &["rlse_"], is_api_key_byte, |prefix| {
        format!("{prefix}[redacted]")
    });
    let text = redact_after_prefix(
        &text,
        &["h1=", "v1=", "v1,", "sha256=", "signature="],
        is_signature_byte,
        |prefix| format!("{prefix}[redacted]"),
    );
    let text = mask_emails(&text);
    mask_phones(&text)
}

/// Collected replacements of byte ranges, applied in one pass.
fn apply(text: &str, spans: Vec<(usize, usize, String)>) -> String {
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, replacement) in spans {
        out.push_str(&text[at..start]);
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_base64url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_api_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_signature_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

fn run_end(bytes: &[u8], from: usize, allowed: fn(u8) -> bool) -> usize {
    bytes[from..]
        .iter()
        .position(|b| !allowed(*b))
        .map_or(bytes.len(), |n| from + n)
}

/// `Bearer <token>` (any case): the token is everything up to the next space, quote or comma.
fn redact_bearer(text: &str) -> String {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find("bearer ") {
        let start = from + found;
        let mut token_start = start + "bearer ".len();
        while token_start < bytes.len() && bytes[token_start] == b' ' {
            token_start += 1;
        }
        let token_end = bytes[token_start..]
            .iter()
            .position(|b| matches!(b, b' ' | b'"' | b'\'' | b',' | b';' | b'\\'))
            .map_or(bytes.len(), |n| token_start + n);
        let preceded_by_word = start > 0 && is_word_byte(bytes[start - 1]);
        if token_end > token_start && !preceded_by_word {
            spans.push((
                start,
                token_end,
                format!("{} [redacted]", &text[start..start + 6]),
            ));
        }
        from = token_end.max(start + 1);
    }
    apply(text, spans)
}

/// `eyJ<b64url>.<b64url>.<b64url>`: a JWS in compact form (every JWT header starts `{"`, which
/// base64url-encodes to `eyJ`).
fn redact_jwts(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("eyJ") {
        let start = from + found;
        let mut end = start;
        let mut parts = 0;
        loop {
            let part_end = run_end(bytes, end, is_base64url_byte);
            if part_end == end && parts < 2 {
                break;
            }
            parts += 1;
            end = part_end;
            if parts == 3 || end >= bytes.len() || bytes[end] != b'.' {
                break;
            }
            end += 1;
        }
        let standalone = start == 0 || !is_base64url_byte(bytes[start - 1]);
        if parts >= 2 && standalone {
            spans.push((start, end, "[jwt]".to_owned()));
            from = end;
        } else {
            from = start + 3;
        }
    }
    apply(text, spans)
}

/// Each `<prefix><value>` becomes `replacement(prefix)`; the prefix must start a word.
fn redact_after_prefix(
    text: &str,
    prefixes: &[&str],
    value_byte: fn(u8) -> bool,
    replacement: impl Fn(&str) -> String,
) -> String {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let starts_word = at == 0 || !is_word_byte(bytes[at - 1]);
        let matched = starts_word
            .then(|| prefixes.iter().find(|p| lower[at..].starts_with(**p)))
            .flatten();
        match matched {
            Some(prefix) => {
                let value_start = at + prefix.len();
                let end = run_end(bytes, value_start, value_byte);
                if end > value_start {
                    spans.push((at, end, replacement(&text[at..value_start])));
                }
                at = end.max(at + 1);
            }
            None => at += 1,
        }
    }
    apply(text, spans)
}

fn is_local_part_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// `local@domain.tld` → `l***@***.tld`.
fn mask_emails(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut last_end = 0;
    for (at, _) in text.match_indices('@') {
        if at < last_end {
            continue;
        }
        let start = bytes[last_end..at]
            .iter()
            .rposition(|b| !is_local_part_byte(*b))
            .map_or(last_end, |n| last_end + n + 1);
        let domain_end = run_end(bytes, at + 1, is_domain_byte);
        // A trailing dot ends the sentence, not the domain.
        let domain = text[at + 1..domain_end].trim_end_matches(['.', '-']);
        let Some((_, tld)) = domain.rsplit_once('.') else {
            continue;
        };
        if start == at || tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_alphabetic()) {
            continue;
        }
        let end = at + 1 + domain.len();
        let first = &text[start..start + 1];
        spans.push((start, end, format!("{first}***@***.{tld}")));
        last_end = end;
    }
    apply(text, spans)
}

/// E.164 numbers (`+` then 8 to 15 digits, single spaces or dashes between groups) and bare
/// WhatsApp ids (10 to 15 digits standing alone) keep only their last two digits.
fn mask_phones(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let before = (at > 0).then(|| bytes[at - 1]);
        let stands_alone = |b: Option<u8>| {
            b.is_none_or(|b| !(is_word_byte(b) || matches!(b, b'-' | b'.' | b'+' | b':')))
        };
        if bytes[at] == b'+' && !before.is_some_and(is_word_byte) {
            let (end, digits) = phone_digits(bytes, at + 1);
            if (8..=15).contains(&digits.len()) && stands_alone(bytes.get(end).copied()) {
                spans.push((at, end, format!("+***{}", &digits[digits.len() - 2..])));
                at = end;
                continue;
            }
        } else if bytes[at].is_ascii_digit() && stands_alone(before) {
            let end = run_end(bytes, at, |b| b.is_ascii_digit());
            let after = bytes.get(end).copied();
            // Not a decimal or a uuid/date segment: the run must end the token too.
            let ends_alone = after.is_none_or(|b| !(is_word_byte(b) || matches!(b, b'-' | b'.')));
            if (10..=15).contains(&(end - at)) && ends_alone {
                spans.push((at, end, format!("***{}", &text[end - 2..end])));
            }
            at = end;
            continue;
        }
        at += 1;
    }
    apply(text, spans)
}

/// The digits of a phone number starting at `from`, with single spaces or dashes allowed
/// between digit groups; returns where the number ends and its digits.
fn phone_digits(bytes: &[u8], from: usize) -> (usize, String) {
    let mut digits = String::new();
    let mut at = from;
    let mut end = from;
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii_digit() {
            digits.push(b as char);
            at += 1;
            end = at;
        } else if matches!(b, b' ' | b'-')
            && !digits.is_empty()
            && bytes.get(at + 1).is_some_and(u8::is_ascii_digit)
        {
            at += 1;
        } else {
            break;
        }
    }
    (end, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_keep_first_letter_and_tld() {
        assert_eq!(
            mask_pii_and_credentials("from owner@acme.test."),
            "from o***@***.test."
        );
        assert_eq!(
            mask_pii_and_credentials("\"email\":\"Jane.Doe+x@mail.example.co.uk\""),
            "\"email\":\"J***@***.uk\""
        );
        assert_eq!(mask_pii_and_credentials("a@b"), "a@b");
        assert_eq!(mask_pii_and_credentials("@home.example"), "@home.example");
    }

    #[test]
    fn phones_keep_last_two_digits() {
        assert_eq!(mask_pii_and_credentials("+5491123456789"), "+***89");
        assert_eq!(
            mask_pii_and_credentials("call +1 555-010-0199 now"),
            "call +***99 now"
        );
        assert_eq!(
            mask_pii_and_credentials("\"wa_id\":\"5491123456789\""),
            "\"wa_id\":\"***89\""
        );
    }

    #[test]
    fn ids_times_and_counts_are_not_phones() {
        for kept in [
            "aaaaaaaa-0000-4000-8000-000000000001",
            "evt_e2epaddle1733040000000123",
            "status 503 after 1234 ms",
            "version 2.119.1",
            "2026-11-23T10:00:00Z",
            "+123",
            "sha256 0x12345678901",
        ] {
            assert_eq!(mask_pii_and_credentials(kept), kept);
        }
    }

    #[test]
    fn credentials_are_redacted() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        assert_eq!(
            mask_pii_and_credentials(&format!("token={jwt}!")),
            "token=[jwt]!"
        );
        assert_eq!(
            mask_pii_and_credentials("Authorization: Bearer abc.def-123, next"),
            "Authorization: Bearer [redacted], next"
        );
        assert_eq!(
            mask_pii_and_credentials("key rlse_0123456789ab_ffff"),
            "key rlse_[redacted]"
        );
        assert_eq!(
            mask_pii_and_credentials("ts=17;h1=abcdef0123"),
            "ts=17;h1=[redacted]"
        );
        assert_eq!(mask_pii_and_credentials("sha256=00ff"), "sha256=[redacted]");
    }

    #[test]
    fn configured_secrets_are_redacted_and_short_values_ignored() {
        let masker = Masker::new(["a-local-secret-value", "short", "a-local-secret"]);
        assert_eq!(
            masker.mask("x a-local-secret-value y a-local-secret z short"),
            "x [secret] y [secret] z short"
        );
    }

    #[test]
    fn json_lines_mask_every_string_and_withhold_bodies() {
        let masker = Masker::new(["configured-secret-1"]);
        let line = json_line(
            &masker,
            Level::Error,
            "request_failed",
            &[
                ("status", 503.into()),
                ("detail", "owner@acme.test configured-secret-1".into()),
                ("body", "{\"email\":\"owner@acme.test\"}".into()),
                ("nested", serde_json::json!({"phone": ["+5491123456789"]})),
            ],
        );
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["level"], "error");
        assert_eq!(parsed["event"], "request_failed");
        assert_eq!(parsed["status"], 503);
        assert_eq!(parsed["detail"], "o***@***.test [secret]");
        assert_eq!(parsed["body"], "[withheld]");
        assert_eq!(parsed["nested"]["phone"][0], "+***89");
        assert!(!line.contains('\n'));
    }
}
