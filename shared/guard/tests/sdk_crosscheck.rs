//! Cross-check against the providers' own code: generated Paddle and Standard Webhooks cases go
//! through our verifiers and through PyPI `paddle-python-sdk` 1.16.1 (its `Verifier`) and
//! `standardwebhooks` 1.1.0 (its `Webhook`), installed by `ci/setup` in a venv under the tools
//! cache. Both must make the same accept/reject decision; where our policy deliberately differs,
//! the case states both decisions and why, and the test asserts exactly that.
//!
//! The SDKs read the wall clock, so the cases are built around the current time with offsets
//! far from any window edge.

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use edge_guard::{PaddleVerifier, StandardWebhooksVerifier, PADDLE_DEFAULT_TOLERANCE_SECS};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The window of most Paddle cases, ours and the SDK's `maximum_variance` alike (wide, so the
/// SDK reading the clock a moment later changes nothing).
const PADDLE_WINDOW_SECS: u64 = 60;
const PADDLE_SECRET: &str = "pdl_ntfset_01hv8x_current";
const PADDLE_OLD_SECRET: &str = "pdl_ntfset_01hv8x_previous";
const PADDLE_EVENT: &str = r#"{"event_id":"evt_01hv8x0000000000000000000a","event_type":"transaction.completed","occurred_at":"2026-11-23T10:00:00Z","data":{"note":"caf\u00e9 \/ a@b"}}"#;

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_OLD_SECRET: &str = "whsec_bmV3LXNlY3JldC1rZXktMTIzNA==";
const SW_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_EVENT: &str =
    r#"{"type":"invoice.paid","timestamp":"2026-11-23T10:00:00Z","data":{"amount":2432232314}}"#;

/// What both sides must decide.
enum Expect {
    Same(bool),
    /// A deliberate policy difference: our decision, the SDK's, and why.
    Differ {
        ours: bool,
        sdk: bool,
        why: &'static str,
    },
}

struct Case {
    name: String,
    /// The JSON the Python side reads (provider, secrets, headers, body, tolerance).
    input: Value,
    expect: Expect,
}

fn hmac(key: &[u8], message: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn paddle_h1(secret: &str, ts: u64, body: &str) -> String {
    hex::encode(hmac(secret.as_bytes(), &format!("{ts}:{body}")))
}

fn paddle_case(name: &str, secrets: &[&str], header: String, body: &str, expect: Expect) -> Case {
    Case {
        name: format!("paddle: {name}"),
        input: json!({
            "provider": "paddle",
            "secrets": secrets,
            "headers": { "Paddle-Signature": header },
            "body": body,
            "tolerance": PADDLE_WINDOW_SECS,
            "our_tolerance": PADDLE_WINDOW_SECS,
        }),
        expect,
    }
}

/// The same delivery judged with the SDK's default window (5 s) and ours as configured.
fn paddle_window_case(name: &str, header: String, our_window: u64, expect: Expect) -> Case {
    let mut case = paddle_case(name, &[PADDLE_SECRET], header, PADDLE_EVENT, expect);
    case.input["tolerance"] = json!(PADDLE_DEFAULT_TOLERANCE_SECS);
    case.input["our_tolerance"] = json!(our_window);
    case
}

fn paddle_cases(now: u64) -> Vec<Case> {
    let h1 = |secret, ts| paddle_h1(secret, ts, PADDLE_EVENT);
    let good = h1(PADDLE_SECRET, now);
    let other = h1("pdl_ntfset_someone_else", now);
    let one = &[PADDLE_SECRET][..];
    let both = &[PADDLE_SECRET, PADDLE_OLD_SECRET][..];
    let tampered = PADDLE_EVENT.replace("completed", "refunded");
    let ts_fresh = now - 10;
    use Expect::*;
    vec![
        paddle_case("valid", one, format!("ts={now};h1={good}"), PADDLE_EVENT, Same(true)),
        paddle_case("valid, 10 s old", one, format!("ts={ts_fresh};h1={}", h1(PADDLE_SECRET, ts_fresh)), PADDLE_EVENT, Same(true)),
        paddle_case("tampered body", one, format!("ts={now};h1={good}"), &tampered, Same(false)),
        paddle_case("re-serialised body", one, format!("ts={now};h1={good}"), &PADDLE_EVENT.replace("\\u00e9", "é"), Same(false)),
        paddle_case("tampered ts", one, format!("ts={};h1={good}", now - 1), PADDLE_EVENT, Same(false)),
        paddle_case("wrong secret", &["pdl_ntfset_wrong"], format!("ts={now};h1={good}"), PADDLE_EVENT, Same(false)),
        paddle_case("rotation: signed with the previous secret", both, format!("ts={now};h1={}", h1(PADDLE_OLD_SECRET, now)), PADDLE_EVENT, Same(true)),
        paddle_case("rotation: signed with the current secret", both, format!("ts={now};h1={good}"), PADDLE_EVENT, Same(true)),
        paddle_case("several h1, the match last", one, format!("ts={now};h1={other};h1={good}"), PADDLE_EVENT, Same(true)),
        paddle_case("several h1, the match first", one, format!("ts={now};h1={good};h1={other}"), PADDLE_EVENT, Same(true)),
        paddle_case("several h1, none matches", one, format!("ts={now};h1={other};h1={other}"), PADDLE_EVENT, Same(false)),
        paddle_case("garbled h1 beside the match", one, format!("ts={now};h1=dummy;h1={good}"), PADDLE_EVENT, Same(true)),
        paddle_case("old ts (300 s, window 60 s)", one, format!("ts={};h1={}", now - 300, h1(PADDLE_SECRET, now - 300)), PADDLE_EVENT, Same(false)),
        paddle_case("future ts (300 s, window 60 s)", one, format!("ts={};h1={}", now + 300, h1(PADDLE_SECRET, now + 300)), PADDLE_EVENT, Same(false)),
        paddle_case("empty header", one, String::new(), PADDLE_EVENT, Same(false)),
        paddle_case("no ts", one, format!("h1={good}"), PADDLE_EVENT, Same(false)),
        paddle_case("non-numeric ts", one, format!("ts=abc;h1={good}"), PADDLE_EVENT, Same(false)),
        paddle_case("non-hex h1", one, format!("ts={now};h1={}", good.replace(|c: char| c.is_ascii_digit(), "z")), PADDLE_EVENT, Same(false)),
        paddle_case("truncated h1", one, format!("ts={now};h1={}", &good[..63]), PADDLE_EVENT, Same(false)),
        paddle_case("garbage header", one, ";;=;==;h1;ts".to_owned(), PADDLE_EVENT, Same(false)),
        paddle_window_case(
            "30 s old, both at the default 5 s window",
            format!("ts={};h1={}", now - 30, h1(PADDLE_SECRET, now - 30)),
            PADDLE_DEFAULT_TOLERANCE_SECS,
            Same(false),
        ),
        paddle_window_case(
            "30 s old, our window configured to 60 s, the SDK's default 5 s",
            format!("ts={};h1={}", now - 30, h1(PADDLE_SECRET, now - 30)),
            60,
            Differ { ours: true, sdk: false, why: "our window is configurable (PADDLE_TOLERANCE_SECS, up to 300 s); the SDK's default is 5 s" },
        ),
        paddle_case(
            "unknown key beside a valid h1", one, format!("ts={now};h1={good};h2=abc"), PADDLE_EVENT,
            Differ { ours: true, sdk: false, why: "the SDK raises on any key but ts/h1; the spec says ignore unknown keys (a future h2)" },
        ),
        paddle_case(
            "spaces around parts", one, format!("ts={now}; h1={good}"), PADDLE_EVENT,
            Differ { ours: true, sdk: false, why: "we trim keys and values; the SDK reads ' h1' as an unknown key and raises" },
        ),
        paddle_case(
            "upper-case hex", one, format!("ts={now};h1={}", good.to_uppercase()), PADDLE_EVENT,
            Differ { ours: true, sdk: false, why: "we compare decoded bytes; the SDK compares hex text" },
        ),
        paddle_case(
            "'=' inside a garbled h1 beside a valid one", one, format!("ts={now};h1=ab=cd;h1={good}"), PADDLE_EVENT,
            Differ { ours: true, sdk: false, why: "the SDK's split('=') raises on a second '='; we split on the first and skip the garbled value" },
        ),
        paddle_case(
            "ts given twice", one, format!("ts={now};ts={now};h1={good}"), PADDLE_EVENT,
            Differ { ours: false, sdk: true, why: "the SDK keeps the last ts; we refuse an ambiguous header" },
        ),
    ]
}

fn sw_signature(secret: &str, id: &str, ts: &str, body: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let sig = hmac(&key, &format!("{id}.{ts}.{body}"));
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(sig)
    )
}

fn sw_case(
    name: &str,
    secrets: &[&str],
    id: &str,
    ts: &str,
    signature: &str,
    body: &str,
    expect: Expect,
) -> Case {
    Case {
        name: format!("standard webhooks: {name}"),
        input: json!({
            "provider": "standard_webhooks",
            "secrets": secrets,
            "headers": { "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signature },
            "body": body,
        }),
        expect,
    }
}

fn standard_webhooks_cases(now: u64) -> Vec<Case> {
    let ts = now.to_string();
    let sig = |secret, ts: &str| sw_signature(secret, SW_ID, ts, SW_EVENT);
    let good = sig(SW_SECRET, &ts);
    let other = sig("whsec_b3RoZXI=", &ts);
    let one = &[SW_SECRET][..];
    let both = &[SW_SECRET, SW_OLD_SECRET][..];
    let old = (now - 600).to_string();
    let future = (now + 600).to_string();
    let recent = (now - 100).to_string();
    let unpadded = good.trim_end_matches('=').to_owned();
    use Expect::*;
    vec![
        sw_case("valid", one, SW_ID, &ts, &good, SW_EVENT, Same(true)),
        sw_case("valid, 100 s old", one, SW_ID, &recent, &sig(SW_SECRET, &recent), SW_EVENT, Same(true)),
        sw_case("tampered body", one, SW_ID, &ts, &good, &SW_EVENT.replace("paid", "void"), Same(false)),
        sw_case("tampered id", one, "msg_other", &ts, &good, SW_EVENT, Same(false)),
        sw_case("tampered timestamp", one, SW_ID, &(now - 1).to_string(), &good, SW_EVENT, Same(false)),
        sw_case("wrong secret", &["whsec_d3Jvbmc="], SW_ID, &ts, &good, SW_EVENT, Same(false)),
        sw_case("rotation: previous secret", both, SW_ID, &ts, &sig(SW_OLD_SECRET, &ts), SW_EVENT, Same(true)),
        sw_case("rotation: current secret", both, SW_ID, &ts, &good, SW_EVENT, Same(true)),
        sw_case("several signatures, the match last", one, SW_ID, &ts, &format!("{other} {good}"), SW_EVENT, Same(true)),
        sw_case("several signatures, none matches", one, SW_ID, &ts, &format!("{other} {other}"), SW_EVENT, Same(false)),
        sw_case("other versions ignored", one, SW_ID, &ts, &format!("v1a,{} {good}", &other[3..]), SW_EVENT, Same(true)),
        sw_case("old timestamp (600 s)", one, SW_ID, &old, &sig(SW_SECRET, &old), SW_EVENT, Same(false)),
        sw_case("future timestamp (600 s)", one, SW_ID, &future, &sig(SW_SECRET, &future), SW_EVENT, Same(false)),
        sw_case("empty signature header", one, SW_ID, &ts, "", SW_EVENT, Same(false)),
        sw_case("empty id", one, "", &ts, &good, SW_EVENT, Same(false)),
        sw_case("non-numeric timestamp", one, SW_ID, "soon", &good, SW_EVENT, Same(false)),
        sw_case("truncated signature", one, SW_ID, &ts, &good[..good.len() - 8], SW_EVENT, Same(false)),
        sw_case("garbled entry after the match", one, SW_ID, &ts, &format!("{good} garbage"), SW_EVENT, Same(true)),
        sw_case(
            "garbled entry before the match", one, SW_ID, &ts, &format!("garbage {good}"), SW_EVENT,
            Differ { ours: true, sdk: false, why: "the SDK raises on the first entry without exactly one ','; we collect every well-formed v1" },
        ),
        sw_case(
            "non-base64 characters inside the signature", one, SW_ID, &ts, &format!("{}*{}", &good[..10], &good[10..]), SW_EVENT,
            Differ { ours: false, sdk: true, why: "the SDK's b64decode drops characters outside the alphabet; we decode strictly" },
        ),
        sw_case(
            "unpadded signature", one, SW_ID, &ts, &unpadded, SW_EVENT,
            Differ { ours: true, sdk: false, why: "we accept base64 with or without padding (same bytes); the SDK raises on missing padding" },
        ),
        sw_case(
            "fractional timestamp", one, SW_ID, &format!("{ts}.0"), &good, SW_EVENT,
            Differ { ours: false, sdk: true, why: "the SDK reads the timestamp as a float and signs its floor; we accept digits only" },
        ),
    ]
}

/// The venv `ci/setup` creates (same default as ci/lib.sh), or RLS_EDGE_PYTHON.
fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("RLS_EDGE_PYTHON") {
        return path.into();
    }
    let cache = std::env::var_os("RLS_EDGE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/rls-edge")
        });
    cache.join("tools/py/bin/python")
}

fn sdk_decisions(cases: &[Case]) -> Vec<Value> {
    let input: Vec<&Value> = cases.iter().map(|c| &c.input).collect();
    let dir = std::env::temp_dir().join(format!("edge-guard-crosscheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases_file = dir.join("cases.json");
    std::fs::write(&cases_file, serde_json::to_vec(&input).unwrap()).unwrap();
    let python = python();
    // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
    let script = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("tests/sdk_crosscheck.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&cases_file)
        .env_remove("TEST_MODE") // would switch the Paddle SDK's time check off
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): run ci/setup, which installs the SDK venv",
                python.display()
            )
        });
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        output.status.success(),
        "the SDK side failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the SDK side prints JSON")
}

fn our_decision(case: &Case, now: u64) -> bool {
    let input = &case.input;
    let secrets: Vec<&str> = input["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let headers = &input["headers"];
    let header = |name: &str| headers[name].as_str();
    let body = input["body"].as_str().unwrap().as_bytes();
    match input["provider"].as_str().unwrap() {
        "paddle" => PaddleVerifier::new(secrets, input["our_tolerance"].as_u64().unwrap())
            .unwrap()
            .verify(header("Paddle-Signature"), body, now)
            .is_ok(),
        "standard_webhooks" => StandardWebhooksVerifier::new(secrets)
            .unwrap()
            .verify(
                header("webhook-id"),
                header("webhook-timestamp"),
                header("webhook-signature"),
                body,
                now,
            )
            .is_ok(),
        other => panic!("unknown provider {other}"),
    }
}

#[test]
fn our_verifiers_decide_like_the_providers_sdks() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cases: Vec<Case> = paddle_cases(now)
        .into_iter()
        .chain(standard_webhooks_cases(now))
        .collect();
    let sdk = sdk_decisions(&cases);
    assert_eq!(sdk.len(), cases.len());
    let mut mismatches = Vec::new();
    for (case, sdk) in cases.iter().zip(&sdk) {
        let ours = our_decision(case, now);
        let theirs = sdk["accepted"].as_bool().unwrap();
        let (want_ours, want_sdk, why) = match case.expect {
            Expect::Same(decision) => (decision, decision, ""),
            Expect::Differ { ours, sdk, why } => (ours, sdk, why),
        };
        if (ours, theirs) != (want_ours, want_sdk) {
            mismatches.push(format!(
                "{}: ours {ours} (want {want_ours}), SDK {theirs} (want {want_sdk}) {} {why}",
                case.name, sdk["error"]
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Both accept and reject occur on each side: the cases exercise both outcomes.
    let accepted = sdk.iter().filter(|d| d["accepted"] == true).count();
    assert!(
        accepted > 5 && accepted < cases.len() - 5,
        "{accepted} of {}",
        cases.len()
    );
}
