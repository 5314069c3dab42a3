//! The browser edge end to end: CORS preflights and security headers on every route the guard
//! audit lists (read from the `serve!` declarations, not a hand-written list), the demo SPA in a
//! real Chromium from an allowed and a disallowed origin, and the workerd log of the whole suite
//! scanned for planted PII and secrets.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use cors_policy::{Audience, SECURITY_HEADERS};
use libtest_mimic::Trial;

use crate::support::*;

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "cors: a preflight from the allowed origin succeeds on every browser-facing route the audit lists, and fails on every webhook, cron and ANY route",
            preflight_on_every_route,
        ),
        Trial::test(
            "cors: a disallowed origin gets no CORS header anywhere, and a 403 JSON error on a browser route's preflight",
            disallowed_origin_on_every_route,
        ),
        Trial::test(
            "headers: every response (2xx, 401, 404, 405, preflights) on every audited route carries the security headers",
            security_headers_on_every_route,
        ),
        Trial::test(
            "logs: requests carrying planted e-mails, phones, tokens, keys and secrets are logged masked",
            plant_pii_and_secrets,
        ),
        Trial::test(
            "browser: the SPA lists, creates and shares a note and opens its share link from the allowed origin; from the disallowed one Chromium reports a CORS error (screenshots kept)",
            spa_in_chromium,
        ),
    ]
}

/// Last of all: the whole suite's workerd output holds no planted value, and the planted values
/// did reach the log (masked), so the scan is not vacuous.
pub fn log_scan(log: PathBuf) -> Trial {
    Trial::test(
        "logs: the suite's workerd output holds 0 planted e-mails, phone numbers or secrets",
        move || scan_log(&log),
    )
}

fn base_url() -> String {
    format!("http://127.0.0.1:{}", var("LOCAL_FUNCTIONS_PORT"))
}

/// The demo SPA's origins: ci/lib.sh places them at LOCAL_FUNCTIONS_PORT + 13 and + 14 unless
/// the environment names them.
fn spa_origin(name: &str, offset: u16) -> String {
    let port = std::env::var(name).ok().unwrap_or_else(|| {
        let functions: u16 = var("LOCAL_FUNCTIONS_PORT").parse().unwrap();
        (functions + offset).to_string()
    });
    format!("http://127.0.0.1:{port}")
}

fn allowed_origin() -> String {
    spa_origin("LOCAL_SPA_PORT", 13)
}

fn disallowed_origin() -> String {
    spa_origin("LOCAL_SPA_DISALLOWED_PORT", 14)
}

/// The headers supabase-js sends with `functions.invoke`.
const SUPABASE_JS_HEADERS: &str = "authorization, x-client-info, apikey, content-type";

/// Every declared route, as the audit reads it from the `serve!` declarations.
fn audited_routes() -> &'static [audit::DeclaredRoute] {
    static ROUTES: OnceLock<Vec<audit::DeclaredRoute>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let report = audit::audit(&repo_root());
        assert!(report.problems.is_empty(), "audit: {:?}", report.problems);
        report
            .rows
            .into_iter()
            .filter_map(|row| row.route)
            .collect()
    })
}

fn audience(route: &audit::DeclaredRoute) -> Audience {
    Audience::of_guard(&route.guard, route.method == "ANY")
}

/// A concrete URL for a declared path (`/*` prefixes get a function name nobody serves).
fn route_url(route: &audit::DeclaredRoute) -> String {
    match route.path.strip_suffix('*') {
        Some(prefix) => format!("{}{prefix}no-such-function", base_url()),
        None => format!("{}{}", base_url(), route.path),
    }
}

/// Any method, any headers; the status, headers and body come back whatever they are.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    let agent = AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    });
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let result = if body.is_empty() {
        agent.run(request.body(ureq::SendBody::none()).unwrap())
    } else {
        agent.run(request.body(body).unwrap())
    };
    let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn preflight(route: &audit::DeclaredRoute, origin: &str) -> Answer {
    let method = if route.method == "ANY" {
        "GET"
    } else {
        &route.method
    };
    send(
        "OPTIONS",
        &route_url(route),
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", SUPABASE_JS_HEADERS),
        ],
        b"",
    )
}

fn preflight_on_every_route() -> TestResult {
    let origin = allowed_origin();
    let (mut browser, mut server) = (0, 0);
    for route in audited_routes() {
        let answer = preflight(route, &origin);
        let what = format!("{} {} ({})", route.method, route.path, route.guard);
        match audience(route) {
            Audience::Browser => {
                browser += 1;
                check!(
                    answer.status == 204,
                    "{what}: preflight {} {}",
                    answer.status,
                    answer.body
                );
                check!(
                    answer.header("access-control-allow-origin") == Some(origin.as_str()),
                    "{what}: allow-origin {:?}",
                    answer.header("access-control-allow-origin")
                );
                let methods = answer
                    .header("access-control-allow-methods")
                    .unwrap_or_default();
                check!(
                    methods.split(", ").any(|m| m == route.method),
                    "{what}: allow-methods {methods:?}"
                );
                let allowed = answer
                    .header("access-control-allow-headers")
                    .unwrap_or_default();
                for sent in SUPABASE_JS_HEADERS.split(", ") {
                    check!(
                        allowed.split(", ").any(|h| h == sent),
                        "{what}: {sent} not in allow-headers {allowed:?}"
                    );
                }
                check!(
                    answer.header("access-control-max-age") == Some("7200"),
                    "{what}: max-age"
                );
                check!(answer.header("vary") == Some("Origin"), "{what}: vary");
            }
            Audience::Server => {
                server += 1;
                check!(
                    answer.status >= 400,
                    "{what}: a server route answered a preflight {}",
                    answer.status
                );
                check!(
                    answer.header("access-control-allow-origin").is_none(),
                    "{what}: CORS header on a server route"
                );
            }
        }
    }
    check!(
        browser > 0 && server > 0,
        "the audit lists {browser} browser and {server} server routes: both kinds must be checked"
    );
    Ok(())
}

fn disallowed_origin_on_every_route() -> TestResult {
    let origin = disallowed_origin();
    for route in audited_routes() {
        let what = format!("{} {} ({})", route.method, route.path, route.guard);
        let answer = preflight(route, &origin);
        check!(
            answer.header("access-control-allow-origin").is_none(),
            "{what}: preflight from a disallowed origin got allow-origin"
        );
        if audience(route) == Audience::Browser {
            check!(
                answer.status == 403
                    && answer.body.contains("\"code\":\"origin_not_allowed\"")
                    && answer
                        .header("content-type")
                        .unwrap_or_default()
                        .starts_with("application/json"),
                "{what}: {} {}",
                answer.status,
                answer.body
            );
        }
        let actual = send(
            actual_method(route),
            &route_url(route),
            &[("origin", &origin)],
            b"",
        );
        check!(
            actual.header("access-control-allow-origin").is_none(),
            "{what}: a response to a disallowed origin got allow-origin"
        );
    }
    Ok(())
}

fn actual_method(route: &audit::DeclaredRoute) -> &str {
    if route.method == "ANY" {
        "GET"
    } else {
        &route.method
    }
}

fn expect_security_headers(answer: &Answer, what: &str) -> TestResult {
    for (name, value) in SECURITY_HEADERS {
        check!(
            answer.header(name) == Some(value),
            "{what} ({}): {name} is {:?}, expected {value:?}",
            answer.status,
            answer.header(name)
        );
    }
    Ok(())
}

fn security_headers_on_every_route() -> TestResult {
    let origin = allowed_origin();
    let user = bearer(&user_token(USER_A));
    for route in audited_routes() {
        let url = route_url(route);
        let what = format!("{} {}", route.method, route.path);
        // Without credentials (401/400/404), from a browser.
        let anonymous = send(actual_method(route), &url, &[("origin", &origin)], b"");
        expect_security_headers(&anonymous, &format!("{what} without credentials"))?;
        if audience(route) == Audience::Browser {
            check!(
                anonymous.header("access-control-allow-origin") == Some(origin.as_str())
                    && anonymous.header("vary") == Some("Origin"),
                "{what}: an error to an allowed origin must carry CORS headers, or the SPA cannot read it"
            );
        }
        // Signed in (2xx where the route reads, 4xx where it needs more).
        let signed_in = send(
            actual_method(route),
            &url,
            &[("origin", &origin), ("authorization", &user)],
            b"",
        );
        expect_security_headers(&signed_in, &format!("{what} signed in"))?;
        // A method the path does not declare (405 from dispatch).
        let other = send("PUT", &url, &[("origin", &origin)], b"");
        expect_security_headers(&other, &format!("PUT {}", route.path))?;
        expect_security_headers(
            &preflight(route, &origin),
            &format!("OPTIONS {}", route.path),
        )?;
    }
    // Unknown paths: inside a function (its dispatch) and at the gateway.
    for path in [
        "/functions/v1/notes/no-such-route",
        "/functions/v1/no-such-function",
        "/",
    ] {
        let answer = send("GET", &format!("{}{path}", base_url()), &[], b"");
        check!(answer.status == 404, "{path}: {}", answer.status);
        expect_security_headers(&answer, path)?;
    }
    // A success, to be sure 2xx carries them too.
    let listed = send(
        "GET",
        &functions_url("notes"),
        &[("authorization", &user)],
        b"",
    );
    check!(listed.status == 200, "notes: {}", listed.status);
    expect_security_headers(&listed, "GET notes (200)")
}

// ---------------------------------------------------------------------------------------------
// Planted PII and secrets: every value below is sent where a careless logger would print it.

const PLANTED_EMAIL: &str = "planted.person@leak-check.example";
const PLANTED_PHONE: &str = "+5491187654321";
const PLANTED_WA_ID: &str = "5491187654321";
const PLANTED_API_KEY: &str =
    "rlse_0123456789ab_fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// A signed-in user whose token carries the planted e-mail and phone (Supabase puts both in
/// its access tokens).
fn planted_user_token() -> String {
    use jwt_simple::prelude::{Claims, Duration as JwtDuration, HS256Key, MACLike};
    let mut custom = serde_json::Map::new();
    custom.insert("role".into(), "authenticated".into());
    custom.insert("email".into(), PLANTED_EMAIL.into());
    custom.insert("phone".into(), PLANTED_PHONE.into());
    let claims = Claims::with_custom_claims(custom, JwtDuration::from_secs(600))
        .with_audience("authenticated")
        .with_subject(USER_A);
    HS256Key::from_bytes(var("SUPABASE_JWT_SECRET").as_bytes())
        .authenticate(claims)
        .unwrap()
}

/// Every configured secret value of ci/local.env that the functions get (comma lists split).
fn configured_secrets() -> Vec<&'static str> {
    [
        "SUPABASE_JWT_SECRET",
        "PADDLE_WEBHOOK_SECRETS",
        "CRON_SECRETS",
        "META_APP_SECRETS",
        "META_VERIFY_TOKENS",
        "MERCADOPAGO_WEBHOOK_SECRETS",
    ]
    .iter()
    .flat_map(|name| var(name).split(','))
    .collect()
}

fn plant_pii_and_secrets() -> TestResult {
    let token = planted_user_token();
    let query = format!(
        "email={PLANTED_EMAIL}&phone={}&wa_id={PLANTED_WA_ID}",
        PLANTED_PHONE.replace('+', "%2B")
    );
    let authorization = bearer(&token);
    let headers = [
        ("authorization", authorization.as_str()),
        ("apikey", PLANTED_API_KEY),
        ("x-api-key", PLANTED_API_KEY),
        ("x-contact", PLANTED_EMAIL),
    ];
    // A read with PII in the query string and credentials in headers (200, then 400 for the
    // unknown workspace parameter shape).
    let listed = send(
        "GET",
        &format!("{}?{query}", functions_url("notes")),
        &headers,
        b"",
    );
    check!(
        listed.status == 200,
        "notes with planted query: {}",
        listed.status
    );
    let refused = send(
        "GET",
        &format!("{}?workspace={PLANTED_EMAIL}", functions_url("notes")),
        &headers,
        b"",
    );
    check!(refused.status == 400, "bad workspace: {}", refused.status);
    // A note whose body holds PII (bodies are never logged).
    let body = serde_json::json!({
        "workspace_id": TENANT_A,
        "body": format!("call {PLANTED_PHONE} or write {PLANTED_EMAIL}"),
    })
    .to_string();
    let created = send("POST", &functions_url("notes"), &headers, body.as_bytes());
    check!(
        created.status == 201,
        "create: {} {}",
        created.status,
        created.body
    );
    // A Meta delivery naming a WhatsApp contact, and one with a forged signature.
    let delivery = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": {
            "contacts": [{ "wa_id": PLANTED_WA_ID, "profile": { "name": PLANTED_EMAIL } }],
            "messages": [{ "id": format!("wamid.leak{}", unique_suffix()), "from": PLANTED_WA_ID,
                           "type": "text", "text": { "body": PLANTED_EMAIL } }]
        }}]}]
    })
    .to_string();
    let signature = meta_signature(var("META_APP_SECRETS"), delivery.as_bytes());
    let meta_url = functions_url("meta-webhook");
    let stored = send(
        "POST",
        &meta_url,
        &[("x-hub-signature-256", &signature)],
        delivery.as_bytes(),
    );
    check!(
        stored.status == 200,
        "meta: {} {}",
        stored.status,
        stored.body
    );
    let forged = send(
        "POST",
        &meta_url,
        &[("x-hub-signature-256", "sha256=00")],
        delivery.as_bytes(),
    );
    check!(forged.status == 401, "forged meta: {}", forged.status);
    // The cron secret in its header, and Meta's verify token in the query (Meta's design).
    let cron = send(
        "POST",
        &functions_url("cron-retention"),
        &[("x-cron-secret", var("CRON_SECRETS"))],
        b"",
    );
    check!(cron.status == 200, "cron: {}", cron.status);
    let handshake = send(
        "GET",
        &format!(
            "{meta_url}?hub.mode=subscribe&hub.challenge=7&hub.verify_token={}",
            var("META_VERIFY_TOKENS")
        ),
        &[],
        b"",
    );
    check!(handshake.status == 200, "handshake: {}", handshake.status);
    Ok(())
}

/// Lines written by wrangler's local dev proxy itself (`[wrangler:info] GET /path?query 200 OK`):
/// its own access log, not the platform's logging path (production has none of it), and it
/// prints request URLs as sent, Meta's verify token in the handshake's query included.
fn is_wrangler_access_line(line: &str) -> bool {
    let Some(rest) = line.split("[wrangler:info] ").nth(1) else {
        return false;
    };
    [
        "GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "OPTIONS ", "HEAD ",
    ]
    .iter()
    .any(|method| rest.starts_with(method))
}

/// What workerd wrote: the captured output without wrangler's access lines and without
/// ci/dev's banner (from "Local platform is up" to the blank line after its "Try:" examples,
/// which show the local development secrets on purpose).
fn workerd_lines(log: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let (mut in_banner, mut in_examples) = (false, false);
    for line in log.lines() {
        if line.contains("Local platform is up.") {
            in_banner = true;
        }
        if in_banner {
            in_examples |= line.trim() == "Try:";
            if in_examples && line.trim().is_empty() {
                (in_banner, in_examples) = (false, false);
            }
            continue;
        }
        if !is_wrangler_access_line(line) {
            lines.push(line);
        }
    }
    lines
}

fn scan_log(path: &PathBuf) -> TestResult {
    let log = std::fs::read_to_string(path)?;
    let lines = workerd_lines(&log);
    let token = planted_user_token();
    let mut planted = vec![
        PLANTED_EMAIL,
        PLANTED_PHONE,
        PLANTED_WA_ID,
        PLANTED_API_KEY,
        token.as_str(),
    ];
    planted.extend(configured_secrets());
    let mut found = Vec::new();
    for value in &planted {
        for line in lines.iter().filter(|line| line.contains(value)) {
            found.push(format!("{value:?} in: {line}"));
        }
    }
    check!(
        found.is_empty(),
        "{} unmasked values in the workerd log:\n{}",
        found.len(),
        found.join("\n")
    );
    // Not vacuous: the planted values did reach the logging path, masked.
    for masked in ["p***@***.example", "+***21", "***21", "[secret]"] {
        check!(
            lines.iter().any(|line| line.contains(masked)),
            "the log never shows {masked:?}: the planted requests did not reach the logging path"
        );
    }
    let structured = lines
        .iter()
        .filter(|line| line.contains("\"event\":\"request\""))
        .count();
    check!(structured > 0, "no structured request lines in the log");
    eprintln!(
        "log scan: {} lines ({} structured request lines), {} planted values, 0 found",
        lines.len(),
        structured,
        planted.len()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The SPA in Chromium.

fn spa_in_chromium() -> TestResult {
    let artifacts = repo_root().join(".local/browser-artifacts");
    let output = std::process::Command::new("node")
        .arg(repo_root().join("tests/browser_spa.mjs"))
        .args([
            &allowed_origin(),
            &disallowed_origin(),
            &user_token(USER_A),
            TENANT_A,
        ])
        .arg(&artifacts)
        .current_dir(repo_root())
        .output()?;
    let report = String::from_utf8_lossy(&output.stdout);
    check!(
        output.status.success(),
        "browser test failed: {report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "browser: screenshots in {} (spa-allowed-origin.png, spa-share-link.png, spa-disallowed-origin.png)",
        artifacts.display()
    );
    Ok(())
}
