//! A corpus of log lines as functions, providers and libraries write them, with PII and secrets
//! planted in every shape we know of. After masking, not one planted value may survive, and the
//! lines without anything planted must come out unchanged (masking must not eat the log).

use log_mask::{json_line, Level, Masker};
use serde_json::Value;

/// Configured secrets, as a deployment holds them (comma lists split, as the adapter does).
const SECRETS: &[&str] = &[
    "super-secret-jwt-token-with-at-least-32-characters-long",
    "pdl_ntfset_local_development_only_secret",
    "local-development-only-cron-secret",
    "local-development-only-meta-verify-token",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
];

const EMAILS: &[&str] = &[
    "owner@acme.test",
    "Jane.Doe+billing@example.co.uk",
    "x_y-z%1@sub.mail.example.org",
];

const PHONES: &[&str] = &["+5491123456789", "+14155550123", "+44 20 7946 0958"];

/// WhatsApp ids: the number without `+`.
const WA_IDS: &[&str] = &["5491123456789", "14155550123"];

const CREDENTIALS: &[&str] = &[
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhYWFhYWFhYS0wMDAwIiwiZW1haWwiOiJvd25lckBhY21lLnRlc3QifQ.Zm9yZ2VkLXNpZ25hdHVyZS1ieXRlcw",
    "rlse_0123456789ab_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    "opaque-refresh-token-v1q2w3e4r5",
    "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12",
    "dGhpcyBpcyBhIHN0YW5kYXJkIHdlYmhvb2sgc2ln",
];

fn corpus() -> Vec<String> {
    let [jwt, api_key, opaque, hex_sig, b64_sig] = CREDENTIALS else {
        unreachable!()
    };
    let mut lines = vec![
        format!("refused 401 invalid_token for {}", EMAILS[0]),
        format!("{{\"email\":\"{}\",\"phone\":\"{}\"}}", EMAILS[1], PHONES[0]),
        format!("user {} <{}> signed in from {}", "Jane", EMAILS[2], PHONES[1]),
        format!("contact: {}; alt {}", PHONES[2], EMAILS[0]),
        format!("{{\"contacts\":[{{\"wa_id\":\"{}\"}}],\"from\":\"{}\"}}", WA_IDS[0], WA_IDS[1]),
        format!("messages from {} and {}", WA_IDS[1], WA_IDS[0]),
        format!("Authorization: Bearer {jwt}"),
        format!("authorization=bearer {opaque}"),
        format!("token {jwt} expired"),
        format!("x-api-key: {api_key}"),
        format!("Paddle-Signature: ts=1700000000;h1={hex_sig}"),
        format!("X-Hub-Signature-256: sha256={hex_sig}"),
        format!("x-signature: ts=1700000000,v1={hex_sig}"),
        format!("webhook-signature: v1,{b64_sig}"),
        format!("query hub.verify_token={}&hub.challenge=42", SECRETS[3]),
        format!("X-Cron-Secret: {}", SECRETS[2]),
        format!("secret {} rotated to {}", SECRETS[1], SECRETS[4]),
        format!("jwt secret is {}", SECRETS[0]),
        format!(
            "User {{ id: Some(\"aaaaaaaa-0000-4000-8000-000000000001\"), claims: Object {{\"email\": String(\"{}\"), \"phone\": String(\"{}\")}} }}",
            EMAILS[0], WA_IDS[0]
        ),
    ];
    // The same values inside a structured line, as nested JSON.
    lines.push(
        serde_json::json!({
            "level": "info",
            "query": format!("email={}&phone={}", EMAILS[1], PHONES[1]),
            "contacts": [{ "wa_id": WA_IDS[0], "email": EMAILS[2] }],
        })
        .to_string(),
    );
    lines
}

fn planted() -> Vec<&'static str> {
    let mut all: Vec<&str> = Vec::new();
    for list in [SECRETS, EMAILS, PHONES, WA_IDS, CREDENTIALS] {
        all.extend_from_slice(list);
    }
    all
}

/// A planted phone counts as surviving if its digits appear in order, whatever the spacing.
fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[test]
fn no_planted_value_survives_masking() {
    let masker = Masker::new(SECRETS.iter().copied());
    let mut survivors = Vec::new();
    let mut masked_lines = Vec::new();
    for line in corpus() {
        let masked = masker.mask(&line);
        for value in planted() {
            let phone_like = PHONES.contains(&value) || WA_IDS.contains(&value);
            let survived =
                masked.contains(value) || (phone_like && digits(&masked).contains(&digits(value)));
            if survived {
                survivors.push(format!("{value:?} in {masked:?}"));
            }
        }
        masked_lines.push(masked);
    }
    assert!(
        survivors.is_empty(),
        "{} planted values survived:\n{}",
        survivors.len(),
        survivors.join("\n")
    );
    // Every line was actually planted (the check above is not vacuous) and still says something.
    for (line, masked) in corpus().iter().zip(&masked_lines) {
        assert_ne!(line, masked, "nothing masked in {line:?}");
    }
}

#[test]
fn structured_lines_are_masked_field_by_field() {
    let masker = Masker::new(SECRETS.iter().copied());
    let line = json_line(
        &masker,
        Level::Info,
        "request",
        &[
            ("query", format!("email={}", EMAILS[0]).into()),
            (
                "principal",
                format!("{{\"phone\":\"{}\"}}", PHONES[0]).into(),
            ),
            ("request_body", EMAILS[1].into()),
        ],
    );
    let parsed: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["query"], "email=o***@***.test");
    assert_eq!(parsed["request_body"], "[withheld]");
    for value in planted() {
        assert!(!line.contains(value), "{value} in {line}");
    }
}

#[test]
fn lines_without_pii_or_secrets_pass_unchanged() {
    let masker = Masker::new(SECRETS.iter().copied());
    for line in [
        "{\"level\":\"info\",\"event\":\"request\",\"method\":\"GET\",\"path\":\"/functions/v1/notes\",\"status\":200}",
        "database_unavailable: connection refused (sqlstate None)",
        "scheduled \"17 3 * * *\": purged 12 processed webhook events, 3 soft-deleted rows",
        "workspace a0000000-0000-4000-8000-00000000000a note 0d9c6a1e-5d2b-4c3f-9a8b-7e6f5d4c3b2a",
        "event sha256:abc paddle evt_01hv8x2ztb8r0x4w3s1k2q9n7m at 2026-11-23T10:00:00.000000Z",
        "jwks: unknown kid local-es256-1; next fetch in 30 s",
    ] {
        assert_eq!(masker.mask(line), line);
    }
}
