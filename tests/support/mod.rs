//! What the end-to-end cases share: the platform (started here or reused), an HTTP client that
//! never turns a status into an error, a superuser connection for asserting on rows, and the
//! credentials a real caller would hold (local development values from ci/local.env).

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use jwt_simple::prelude::{Claims, ECDSAP256KeyPairLike, ES256KeyPair, HS256Key, MACLike};
use serde_json::Value;
use sha2::Sha256;

pub const TENANT_A: &str = "a0000000-0000-4000-8000-00000000000a";
pub const TENANT_B: &str = "b0000000-0000-4000-8000-00000000000b";
pub const USER_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const USER_B: &str = "bbbbbbbb-0000-4000-8000-000000000002";

pub type TestResult = Result<(), libtest_mimic::Failed>;

pub fn repo_root() -> PathBuf {
    // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// ci/local.env as a map: the same values ci/dev hands the functions. Ports set in the
/// environment win, as they do in ci/lib.sh.
pub fn local_env() -> &'static HashMap<String, String> {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join("ci/local.env")).expect("ci/local.env");
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| {
                let k = k.trim().to_owned();
                let overridden = k
                    .ends_with("_PORT")
                    .then(|| std::env::var(&k).ok())
                    .flatten();
                let v = overridden.unwrap_or_else(|| v.trim().to_owned());
                (k, v)
            })
            .collect()
    })
}

pub fn var(name: &str) -> &'static str {
    local_env()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing from ci/local.env"))
}

pub fn local_functions_port() -> u16 {
    var("LOCAL_FUNCTIONS_PORT")
        .parse()
        .expect("LOCAL_FUNCTIONS_PORT is a port")
}

pub fn functions_url(path: &str) -> String {
    format!(
        "http://127.0.0.1:{}/functions/v1/{path}",
        var("LOCAL_FUNCTIONS_PORT")
    )
}

// ---------------------------------------------------------------------------------------------
// HTTP

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub headers: ureq::http::HeaderMap,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A response header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The stable code of an error reply.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
            .to_owned()
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into()
    })
}

fn finish(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = response.expect("the platform answered");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        content_type,
        body,
        headers: response.headers().clone(),
    }
}

/// A GET that may find nothing listening yet (readiness probes).
pub fn try_get(url: &str) -> Option<Reply> {
    agent()
        .get(url)
        .call()
        .ok()
        .map(|response| finish(Ok(response)))
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    finish(request.call())
}

pub fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut request = agent().post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    finish(request.send(body))
}

// ---------------------------------------------------------------------------------------------
// Credentials, made the way Supabase and Paddle make them.

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Supabase access token: `role`, `sub`, `aud` as GoTrue issues them, signed with `secret`.
pub fn access_token(secret: &str, role: &str, sub: Option<&str>, expires_at: u64) -> String {
    let mut custom = serde_json::Map::new();
    custom.insert("role".into(), role.into());
    custom.insert("aal".into(), "aal1".into());
    let mut claims =
        Claims::with_custom_claims(custom, jwt_simple::prelude::Duration::from_secs(60))
            .with_audience("authenticated");
    claims.expires_at = Some(jwt_simple::prelude::Duration::from_secs(expires_at));
    claims.issued_at = Some(jwt_simple::prelude::Duration::from_secs(
        expires_at.saturating_sub(3600).min(unix_now()),
    ));
    if let Some(sub) = sub {
        claims = claims.with_subject(sub);
    }
    HS256Key::from_bytes(secret.as_bytes())
        .authenticate(claims)
        .unwrap()
}

/// The LOCAL-ONLY ES256 key whose public half ci/dev serves as the project's JWKS.
pub fn local_es256_key() -> ES256KeyPair {
    let pem = std::fs::read_to_string(repo_root().join("ci/local-es256-private.pem")).unwrap();
    ES256KeyPair::from_pem(&pem)
        .unwrap()
        .with_key_id(var("LOCAL_JWKS_KID"))
}

/// A user's access token as Supabase signs it with an asymmetric key: `aal` and, when
/// `signed_in_secs_ago` is given, an `amr` entry for that sign-in.
pub fn es256_user_token(
    key: &ES256KeyPair,
    sub: &str,
    aal: &str,
    signed_in_secs_ago: Option<u64>,
) -> String {
    let mut custom = serde_json::Map::new();
    custom.insert("role".into(), "authenticated".into());
    custom.insert("aal".into(), aal.into());
    if let Some(ago) = signed_in_secs_ago {
        custom.insert(
            "amr".into(),
            serde_json::json!([{ "method": "totp", "timestamp": unix_now() - ago }]),
        );
    }
    let claims = Claims::with_custom_claims(custom, jwt_simple::prelude::Duration::from_secs(600))
        .with_audience("authenticated")
        .with_subject(sub);
    key.sign(claims).unwrap()
}

pub fn user_token(sub: &str) -> String {
    access_token(
        var("SUPABASE_JWT_SECRET"),
        "authenticated",
        Some(sub),
        unix_now() + 600,
    )
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `Paddle-Signature` for `body` at `ts`, with the local webhook secret unless told otherwise.
pub fn paddle_signature(secret: &str, ts: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}:").as_bytes());
    mac.update(body);
    format!("ts={ts};h1={}", hex::encode(mac.finalize().into_bytes()))
}

/// `X-Hub-Signature-256` for `body`, as Meta signs a delivery with the app secret.
pub fn meta_signature(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A WhatsApp Cloud API delivery (unique by its `wamid`s): one message change per number in
/// `phone_number_ids`, or one change without `metadata` when none is given. Written the way
/// Meta writes it: compact, with `/` escaped.
pub fn meta_delivery(tag: &str, phone_number_ids: &[&str]) -> String {
    let change = |phone_number_id: Option<&str>| {
        let mut value = serde_json::json!({
            "messaging_product": "whatsapp",
            "messages": [{ "id": format!("wamid.e2e{tag}{}", unique_suffix()), "type": "text",
                           "text": { "body": "hello / hola" } }]
        });
        if let Some(id) = phone_number_id {
            value["metadata"] =
                serde_json::json!({ "display_phone_number": "15550100", "phone_number_id": id });
        }
        serde_json::json!({ "field": "messages", "value": value })
    };
    let changes: Vec<Value> = if phone_number_ids.is_empty() {
        vec![change(None)]
    } else {
        phone_number_ids.iter().map(|id| change(Some(id))).collect()
    };
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": changes }]
    })
    .to_string()
    .replace('/', "\\/")
}

/// `x-signature` for a Mercado Pago notification: HMAC-SHA256 over
/// `id:<data.id>;request-id:<x-request-id>;ts:<ts>;`, as Mercado Pago's SDKs compute it.
pub fn mercadopago_signature(secret: &str, data_id: &str, request_id: &str, ts: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("id:{data_id};request-id:{request_id};ts:{ts};").as_bytes());
    format!("ts={ts},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A Mercado Pago payment notification for `data_id` with a fresh notification id (its dedupe
/// key is made of the signed parts: `<data.id>:<x-request-id>:<ts>`).
pub fn mercadopago_notification(data_id: &str) -> String {
    let id = unique_suffix() % 1_000_000_000_000;
    serde_json::json!({
        "action": "payment.updated",
        "api_version": "v1",
        "data": { "id": data_id },
        "date_created": "2026-11-23T10:00:00Z",
        "id": id,
        "live_mode": false,
        "type": "payment",
        "user_id": "1"
    })
    .to_string()
}

/// Distinct on every call within a run and across runs (the database outlives a run).
pub fn unique_suffix() -> u128 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    nanos + u128::from(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// A Paddle-shaped event with a fresh, unique `event_id`.
pub fn paddle_event(tag: &str) -> (String, String) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let event_id = format!("evt_e2e{tag}{nanos}");
    let body = serde_json::json!({
        "event_id": event_id,
        "event_type": "subscription.activated",
        "occurred_at": "2026-11-23T10:00:00.000000Z",
        "notification_id": "ntf_e2e",
        "data": { "id": "sub_e2e", "status": "active", "custom_data": { "workspace_id": TENANT_A } }
    });
    (event_id, body.to_string())
}

// ---------------------------------------------------------------------------------------------
// The database, seen as its owner, to assert on rows the functions wrote.

pub fn superuser() -> postgres::Client {
    let url = format!(
        "postgres://postgres:{}@127.0.0.1:{}/postgres",
        var("LOCAL_POSTGRES_PASSWORD"),
        var("LOCAL_PG_PORT")
    );
    postgres::Client::connect(&url, postgres::NoTls).expect("the local cluster is up")
}

/// Runs a `ci/lib.sh` function (pg_start, pg_stop, …) in a shell that has sourced it.
pub fn ci_lib(command: &str) {
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!("source ci/lib.sh && {command}"))
        .current_dir(repo_root())
        .status()
        .expect("bash runs");
    assert!(status.success(), "`{command}` failed");
}

/// Postgres' port while Postgres is stopped: every connection is accepted, its startup message
/// read, and then closed without an answer, as a database that is down behind a pooler behaves.
pub struct OriginDown {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OriginDown {
    pub fn listen() -> Self {
        use std::io::Read;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind((
            "127.0.0.1",
            var("LOCAL_PG_PORT").parse::<u16>().unwrap(),
        ))
        .expect("Postgres' port is free once it stopped");
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut socket, _)) => {
                        socket.set_nonblocking(false).ok();
                        socket
                            .set_read_timeout(Some(Duration::from_millis(500)))
                            .ok();
                        let _ = socket.read(&mut [0u8; 1024]);
                        let _ = socket.shutdown(std::net::Shutdown::Both);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for OriginDown {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Processes this harness starts: each in its own process group, stopped as a group on drop.

pub struct Background {
    child: Child,
    what: String,
    log: PathBuf,
}

impl Background {
    /// Runs `script` with bash from the repository root; output goes to `.local/<log_name>`.
    pub fn spawn(what: &str, script: &str, log_name: &str) -> Self {
        let log = repo_root().join(".local").join(log_name);
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        let out = File::create(&log).unwrap();
        let child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Self {
            child,
            what: what.into(),
            log,
        }
    }

    /// Waits until `ready()` holds, failing early (with the log) if the process exits.
    pub fn wait_until(&mut self, limit: Duration, ready: impl Fn() -> bool) {
        let start = Instant::now();
        while !ready() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before it was ready; log:\n{}",
                    self.what,
                    self.log_tail()
                );
            }
            if start.elapsed() > limit {
                panic!(
                    "{} not ready after {limit:?}; log:\n{}",
                    self.what,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Where the process's output goes.
    pub fn log_path(&self) -> PathBuf {
        self.log.clone()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        // TERM first so scripts run their cleanup traps; KILL whatever is left after 10 s.
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// Every function under `functions/` answers through the gateway, itself: a 4xx, where a 404 is
/// the function's own `route_not_found` (no route at its bare path), not the gateway's.
fn platform_ready() -> bool {
    let functions = std::fs::read_dir(repo_root().join("functions")).unwrap();
    functions
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name != "gateway")
        .all(|name| {
            let Ok(mut reply) = agent().get(&functions_url(&name)).call() else {
                return false;
            };
            let status = reply.status().as_u16();
            let body = reply.body_mut().read_to_string().unwrap_or_default();
            (400..500).contains(&status) && (status != 404 || body.contains("\"route_not_found\""))
        })
}

/// The platform as README command 1 runs it: reused when already up, otherwise started here and
/// stopped when the returned guard drops.
pub fn platform() -> Option<Background> {
    if platform_ready() {
        eprintln!(
            "e2e: reusing the platform already running on {}",
            functions_url("")
        );
        return None;
    }
    eprintln!("e2e: starting the platform (ci/dev), log in .local/e2e-platform.log");
    let mut dev = Background::spawn("ci/dev", "exec ci/dev", "e2e-platform.log");
    dev.wait_until(Duration::from_secs(1800), platform_ready);
    Some(dev)
}

// ---------------------------------------------------------------------------------------------
// Workspaces, members, invitations, profiles: the SPA's calls, reusable by any journey.

pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    finish(run(method, url, headers, body))
}

fn run(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    agent().run(request.body(body.unwrap_or_default().to_vec()).unwrap())
}

pub fn put(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send("PUT", url, headers, Some(body))
}

pub fn patch(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send("PATCH", url, headers, Some(body))
}

pub fn delete(url: &str, headers: &[(&str, &str)]) -> Reply {
    send("DELETE", url, headers, None)
}

/// A signed-in user of these tests: a fresh id and e-mail on every run (the database persists).
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
}

impl TestUser {
    pub fn fresh(tag: &str) -> Self {
        let n = unique_suffix();
        let hex = format!("{:032x}", n ^ (n << 64));
        let id = format!(
            "{}-{}-4{}-8{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        );
        Self {
            id,
            email: format!("{tag}-{n}@e2e.test"),
        }
    }

    /// An aal1 access token (HS256) with `email`, as GoTrue issues one after a password sign-in.
    pub fn token(&self) -> String {
        HS256Key::from_bytes(var("SUPABASE_JWT_SECRET").as_bytes())
            .authenticate(signed_in_claims(self, "aal1", None))
            .unwrap()
    }

    /// An aal2 access token (ES256, the local JWKS) from a sign-in `signed_in_secs_ago`.
    pub fn aal2_token(&self, signed_in_secs_ago: u64) -> String {
        local_es256_key()
            .sign(signed_in_claims(self, "aal2", Some(signed_in_secs_ago)))
            .unwrap()
    }

    pub fn auth(&self) -> String {
        bearer(&self.token())
    }
}

fn signed_in_claims(
    user: &TestUser,
    aal: &str,
    signed_in_secs_ago: Option<u64>,
) -> jwt_simple::prelude::JWTClaims<serde_json::Map<String, Value>> {
    let mut custom = serde_json::Map::new();
    custom.insert("role".into(), "authenticated".into());
    custom.insert("aal".into(), aal.into());
    custom.insert("email".into(), user.email.clone().into());
    if let Some(ago) = signed_in_secs_ago {
        custom.insert(
            "amr".into(),
            serde_json::json!([{ "method": "totp", "timestamp": unix_now() - ago }]),
        );
    }
    Claims::with_custom_claims(custom, jwt_simple::prelude::Duration::from_secs(600))
        .with_audience("authenticated")
        .with_subject(&user.id)
}

pub fn as_json(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// `POST /workspaces {"name"}` as `user`; the new workspace's id.
pub fn create_workspace(user: &TestUser, name: &str) -> String {
    let reply = send(
        "POST",
        &functions_url("workspaces"),
        &[("authorization", &user.auth())],
        Some(&as_json(serde_json::json!({ "name": name }))),
    );
    assert_eq!(reply.status, 201, "create workspace: {}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// `POST /invitations?workspace=` as `inviter`, inviting `email` with `role`.
pub fn invite(inviter: &TestUser, workspace: &str, email: &str, role: &str) -> Reply {
    send(
        "POST",
        &functions_url(&format!("invitations?workspace={workspace}")),
        &[("authorization", &inviter.auth())],
        Some(&as_json(
            serde_json::json!({ "email": email, "role": role }),
        )),
    )
}

/// The e-mail provider stand-in's base URL (ci/email-standin.mjs).
pub fn email_standin_url() -> String {
    let port = std::env::var("LOCAL_EMAIL_PORT")
        .unwrap_or_else(|_| (var("LOCAL_FUNCTIONS_PORT").parse::<u16>().unwrap() + 9).to_string());
    format!("http://127.0.0.1:{port}")
}

/// Every mail the stand-in accepted for `email`, newest first.
pub fn mails_to(email: &str) -> Vec<Value> {
    let reply = get(
        &format!("{}/emails", email_standin_url()),
        &[("authorization", &bearer(var("RESEND_API_KEY")))],
    );
    assert_eq!(
        reply.status, 200,
        "the e-mail stand-in lists its mail: {}",
        reply.body
    );
    reply.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .is_some_and(|to| to.iter().any(|a| a == email))
        })
        .cloned()
        .collect()
}

/// The token in the newest invitation mail to `email` (its link's `#token=` fragment).
pub fn invitation_token_sent_to(email: &str) -> String {
    let mails = mails_to(email);
    let text = mails
        .first()
        .unwrap_or_else(|| panic!("no mail was sent to {email}"))["text"]
        .as_str()
        .unwrap();
    let token = text
        .split("#token=")
        .nth(1)
        .expect("the mail carries an accept link");
    token.split_whitespace().next().unwrap().to_owned()
}

/// `POST /invitations/accept {"token"}` as `user`.
pub fn accept_invitation(user: &TestUser, token: &str) -> Reply {
    send(
        "POST",
        &functions_url("invitations/accept"),
        &[("authorization", &user.auth())],
        Some(&as_json(serde_json::json!({ "token": token }))),
    )
}

/// A fresh user who joined `workspace` with `role` through an invitation from `inviter`.
pub fn join_through_invitation(inviter: &TestUser, workspace: &str, role: &str) -> TestUser {
    let user = TestUser::fresh(role);
    let invited = invite(inviter, workspace, &user.email, role);
    assert_eq!(invited.status, 201, "invite: {}", invited.body);
    let accepted = accept_invitation(&user, &invitation_token_sent_to(&user.email));
    assert_eq!(accepted.status, 200, "accept: {}", accepted.body);
    user
}

// ---------------------------------------------------------------------------------------------
// Notes and share links (tests/notes.rs, tests/share_links.rs; reusable by journey tests)

/// A plain member of tenant A (not seeded: [`join_workspace`] adds them where a case needs one).
pub const MEMBER_A: &str = "aaaaaaaa-0000-4000-8000-000000000003";
/// An admin of tenant A (likewise added by [`join_workspace`]).
pub const ADMIN_A: &str = "aaaaaaaa-0000-4000-8000-000000000004";

/// Makes `user` a member of `workspace` with `role` (as the database owner: invitations are
/// saas-ws' routes; these cases only need the membership to exist).
pub fn join_workspace(workspace: &str, user: &str, role: &str) {
    superuser()
        .execute(
            "insert into public.memberships (workspace_id, user_id, role)
             values ($1::text::uuid, $2::text::uuid, $3)
             on conflict (workspace_id, user_id) do update set role = excluded.role",
            &[&workspace, &user, &role],
        )
        .expect("membership stored");
}

/// The Authorization header of a signed-in user (HS256, aal1), ready for [`get`]/[`post`].
pub fn signed_in(user: &str) -> [(&'static str, String); 1] {
    [("authorization", bearer(&user_token(user)))]
}

/// `headers` as the slice the HTTP helpers take.
pub fn as_headers<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// `POST /functions/v1/notes` as `user` with this JSON body, as sent.
pub fn create_note_reply(user: &str, body: &Value) -> Reply {
    post(
        &functions_url("notes"),
        &as_headers(&signed_in(user)),
        body.to_string().as_bytes(),
    )
}

/// Writes a note as `user` and returns it (panics unless the platform answers 201).
pub fn create_note(user: &str, workspace: &str, body: &str, visibility: &str) -> Value {
    let reply = create_note_reply(
        user,
        &serde_json::json!({ "workspace_id": workspace, "body": body, "visibility": visibility }),
    );
    assert_eq!(reply.status, 201, "note created: {}", reply.body);
    reply.json()
}

// ---------------------------------------------------------------------------------------------
// Provider API stand-ins (ci/provider-stand-ins.mjs), beside the functions' port as ci/lib.sh
// places them: Meta Graph API +10, Mercado Pago API +11.

/// `http://127.0.0.1:<LOCAL_FUNCTIONS_PORT + offset>`.
pub fn stand_in_url(offset: u16) -> String {
    let port = var("LOCAL_FUNCTIONS_PORT").parse::<u16>().unwrap() + offset;
    format!("http://127.0.0.1:{port}")
}

/// Lets `access_token` list `phone_numbers` (id, display number) of WABA `waba_id` on the Meta
/// Graph API stand-in, as Embedded Signup grants a business's token its own account.
pub fn graph_grant(access_token: &str, waba_id: &str, phone_numbers: &[(&str, &str)]) {
    let numbers: Vec<Value> = phone_numbers
        .iter()
        .map(|(id, display)| serde_json::json!({ "id": id, "display_phone_number": display }))
        .collect();
    let body = serde_json::json!({
        "access_token": access_token, "waba_id": waba_id, "phone_numbers": numbers
    });
    let reply = post(
        &format!("{}/__stand-in/grants", stand_in_url(10)),
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 204, "stand-in grant: {}", reply.body);
}

/// Makes the Mercado Pago API stand-in serve `payment` as `GET /v1/payments/<id>`.
pub fn mercadopago_serve_payment(id: &str, payment: &Value) {
    let response = agent()
        .put(&format!("{}/__stand-in/payments/{id}", stand_in_url(11)))
        .header("content-type", "application/json")
        .send(payment.to_string().as_bytes());
    let reply = finish(response);
    assert_eq!(reply.status, 204, "stand-in payment: {}", reply.body);
}

/// A new workspace owned by `owner` (the creator trigger makes them owner; the billing trigger
/// opens its billing account), so a case starts from a clean billing and channel state.
pub fn fresh_workspace(owner: &str, name: &str) -> String {
    superuser()
        .query_one(
            "insert into public.workspaces (name, created_by) values ($1, $2::text::uuid) returning id::text",
            &[&name, &owner],
        )
        .unwrap()
        .get(0)
}

/// Digits unique to this call, for provider ids (WABA, phone numbers, payments).
pub fn unique_digits() -> String {
    (unique_suffix() % 1_000_000_000_000_000).to_string()
}

// ---------------------------------------------------------------------------------------------
// Share links (tests/share_links.rs; reusable by journey tests)

/// The id of a JSON object the platform returned.
pub fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

/// `POST /functions/v1/share-links` as `user` with this JSON body, as sent.
pub fn create_share_link_reply(user: &str, body: &Value) -> Reply {
    post(
        &functions_url("share-links"),
        &as_headers(&signed_in(user)),
        body.to_string().as_bytes(),
    )
}

/// Creates a share link to `note_id` as `user` (an owner or admin) and returns it, its one-time
/// `token` included (panics unless the platform answers 201).
pub fn create_share_link(user: &str, note_id: &str) -> Value {
    let reply = create_share_link_reply(user, &serde_json::json!({ "note_id": note_id }));
    assert_eq!(reply.status, 201, "share link created: {}", reply.body);
    reply.json()
}

/// `POST /functions/v1/share-links/revoke?id=` as `user`.
pub fn revoke_share_link(user: &str, link_id: &str) -> Reply {
    post(
        &functions_url(&format!("share-links/revoke?id={link_id}")),
        &as_headers(&signed_in(user)),
        b"",
    )
}

/// Reads the note a share token opens, anonymously (no Authorization at all), as a link's
/// recipient's browser does.
pub fn read_shared_note(token: &str) -> Reply {
    get(
        &functions_url("share-links/note"),
        &[("x-share-token", token)],
    )
}

// ---------------------------------------------------------------------------------------------
// Standard Webhooks (Svix; Resend's e-mail events)

/// The three Standard Webhooks headers for `body`, signed as Svix signs: HMAC-SHA256 keyed with
/// the base64-decoded part of `whsec_<base64>` over `<id>.<timestamp>.<body>`, `v1,<base64>`.
pub fn standard_webhooks_headers(
    secret: &str,
    id: &str,
    timestamp: u64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .expect("a whsec_ secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let signature = engine.encode(mac.finalize().into_bytes());
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", format!("v1,{signature}")),
    ]
}

// ---------------------------------------------------------------------------------------------
// supabase-js under Node (tests/*.mjs)

/// `node`, ready to run a script that constructs a supabase-js client.
pub fn node_for_supabase_js() -> Result<Command, libtest_mimic::Failed> {
    let node_major: u32 = String::from_utf8(
        Command::new("node")
            .args(["-p", "process.versions.node.split('.')[0]"])
            .output()?
            .stdout,
    )?
    .trim()
    .parse()?;
    let mut node = Command::new("node");
    // supabase-js needs a WebSocket class at construction; Node 20 has it behind this flag.
    if node_major < 22 {
        node.arg("--experimental-websocket");
    }
    Ok(node)
}

// ---------------------------------------------------------------------------------------------
// API keys and sessions (tests/api_keys.rs, tests/sessions.rs)

/// An aal2 access token (ES256, the local JWKS) for `user`, signed in 10 s ago: what the API-key
/// management routes need.
pub fn aal2_headers(user: &str) -> [(&'static str, String); 1] {
    let token = es256_user_token(&local_es256_key(), user, "aal2", Some(10));
    [("authorization", bearer(&token))]
}

/// `POST /functions/v1/api-keys?workspace=` as `user` at aal2 with this JSON body, as sent.
pub fn create_api_key_reply(user: &str, workspace: &str, body: &Value) -> Reply {
    post(
        &functions_url(&format!("api-keys?workspace={workspace}")),
        &as_headers(&aal2_headers(user)),
        body.to_string().as_bytes(),
    )
}

/// Mints a key of `workspace` with `scopes` as its owner `user`; the reply (with `key`).
pub fn create_api_key(user: &str, workspace: &str, scopes: &[&str]) -> Value {
    let name = format!("e2e key {}", unique_suffix());
    let body = serde_json::json!({ "name": name, "scopes": scopes });
    let reply = create_api_key_reply(user, workspace, &body);
    assert_eq!(reply.status, 201, "key created: {}", reply.body);
    reply.json()
}

/// `send(method, /functions/v1/<path>)` with `X-Api-Key: key`.
pub fn with_api_key(method: &str, path: &str, key: &str, body: Option<&Value>) -> Reply {
    let body = body.map(Value::to_string);
    send(
        method,
        &functions_url(path),
        &[("x-api-key", key), ("content-type", "application/json")],
        body.as_deref().map(str::as_bytes),
    )
}

/// Signs `user` in as Supabase Auth does: a new row in `auth.sessions` and an access token
/// (HS256, aal1) carrying its id as `session_id`. Returns (session id, token).
pub fn start_session(user: &TestUser) -> (String, String) {
    let session_id: String = superuser()
        .query_one(
            "insert into auth.sessions (id, user_id, aal) values (gen_random_uuid(), $1::text::uuid, 'aal1')
             returning id::text",
            &[&user.id],
        )
        .unwrap()
        .get(0);
    let mut claims = signed_in_claims(user, "aal1", None);
    claims
        .custom
        .insert("session_id".into(), session_id.clone().into());
    let token = HS256Key::from_bytes(var("SUPABASE_JWT_SECRET").as_bytes())
        .authenticate(claims)
        .unwrap();
    (session_id, token)
}

// Files (tests/files.rs): binary bodies both ways.

/// A reply whose body is kept as bytes (a downloaded file), with the headers a download sets.
pub struct BinaryReply {
    pub status: u16,
    pub content_type: String,
    pub disposition: String,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

/// `method url` with these headers and body, the answer's body kept as bytes.
pub fn send_binary(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> BinaryReply {
    let mut response = run(method, url, headers, body).expect("the platform answered");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let headers = response.headers().clone();
    let body = response
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    BinaryReply {
        status: response.status().as_u16(),
        content_type,
        disposition,
        headers,
        body,
    }
}

impl BinaryReply {
    /// The reply as text, for checking a JSON error.
    pub fn text(&self) -> Reply {
        Reply {
            status: self.status,
            content_type: self.content_type.clone(),
            body: String::from_utf8_lossy(&self.body).into_owned(),
            headers: self.headers.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Circuit breakers (functions/circuit-breaker) and the provider stand-ins' faults

/// Makes the stand-in at `offset` (10 Graph API, 11 Mercado Pago) answer every provider request
/// with 503 (`fail`), late (`slow`, after `delay_ms`) or normally (`ok`).
pub fn stand_in_fault(offset: u16, mode: &str, delay_ms: u64) {
    let body = serde_json::json!({ "mode": mode, "delay_ms": delay_ms }).to_string();
    let reply = post(
        &format!("{}/__stand-in/fault", stand_in_url(offset)),
        &[("content-type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 204, "stand-in fault: {}", reply.body);
}

/// How many provider requests the stand-in at `offset` has received.
pub fn stand_in_requests(offset: u16) -> u64 {
    let reply = get(
        &format!("{}/__stand-in/requests", stand_in_url(offset)),
        &[],
    );
    reply.json()["count"].as_u64().expect("a request count")
}

/// `provider`'s breaker state as functions/circuit-breaker lists it.
pub fn breaker_state(provider: &str) -> Value {
    let secret = var("CRON_SECRETS").split(',').next().unwrap();
    let reply = get(
        &functions_url("circuit-breaker"),
        &[("x-cron-secret", secret)],
    );
    assert_eq!(reply.status, 200, "breaker states: {}", reply.body);
    reply.json()[provider].clone()
}

/// Waits (bounded) until `provider`'s breaker is closed or its open period (or probe lease) is
/// over, so the next call goes through: an earlier run or case may have left it open. A case
/// then makes one call that succeeds, which closes it.
pub fn breaker_settled(provider: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let state = breaker_state(provider);
        let until = state["until_ms"]
            .as_u64()
            .or(state["probe_until_ms"].as_u64());
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        if state["state"] == "closed" || until.is_some_and(|until| until < now_ms) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

/// A business's WhatsApp account on the Graph API stand-in: (token, waba id, phone number ids).
pub fn graph_business(numbers: usize) -> (String, String, Vec<String>) {
    let token = format!("EAAG-e2e-{}", unique_digits());
    let waba = unique_digits();
    let phones: Vec<String> = (0..numbers).map(|_| unique_digits()).collect();
    let listed: Vec<(&str, &str)> = phones.iter().map(|p| (p.as_str(), "+1 555-0199")).collect();
    graph_grant(&token, &waba, &listed);
    (token, waba, phones)
}

/// `POST /channels`: connect `phone` of `waba` to `workspace` with the business's `token`, and
/// the reply's `Retry-After`.
pub fn connect_channel(
    user: &str,
    workspace: &str,
    waba: &str,
    phone: &str,
    token: &str,
) -> (Reply, Option<u64>) {
    let body =
        serde_json::json!({ "waba_id": waba, "phone_number_id": phone, "access_token": token });
    let (reply, retry_after) = post_reading_header(
        &functions_url(&format!("channels?workspace={workspace}")),
        &[
            ("authorization", &bearer(&user_token(user))),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
        "retry-after",
    );
    (reply, retry_after.and_then(|v| v.parse().ok()))
}

// ---------------------------------------------------------------------------------------------
// Assistant and budgets (tests/assistant.rs)

/// A POST whose reply header `name` matters too (`Retry-After` on a temporary block).
pub fn post_reading_header(
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    name: &str,
) -> (Reply, Option<String>) {
    let mut request = agent().post(url);
    for (header, value) in headers {
        request = request.header(*header, *value);
    }
    let response = request.send(body).expect("the platform answered");
    let value = response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (finish(Ok(response)), value)
}

/// The keys under `prefix` in the local R2 bucket, read from the storage `wrangler dev` keeps
/// beside the repository (Miniflare's SQLite index of the bucket's objects), so a test sees what
/// is really stored, not what a function says. Read with Python's sqlite3 (ci/setup installs
/// Python for the SDK checks).
pub fn r2_keys_under(prefix: &str) -> Vec<String> {
    let script = r#"
import glob, sqlite3, sys
keys = []
for path in glob.glob(sys.argv[1] + "/*.sqlite"):
    db = sqlite3.connect("file:" + path + "?mode=ro", uri=True)
    if db.execute("select 1 from sqlite_master where name = '_mf_objects'").fetchone():
        keys += [k for (k,) in db.execute("select key from _mf_objects where substr(key, 1, length(?)) = ?", (sys.argv[2], sys.argv[2]))]
print("\n".join(sorted(keys)))
"#;
    let index = repo_root().join(".wrangler/state/v3/r2/miniflare-R2BucketObject");
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&index)
        .arg(prefix)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Uploads `text` as a text file named `name` to `workspace` as `user` (files function); the
/// new file's id.
pub fn upload_text(user: &TestUser, workspace: &str, name: &str, text: &str) -> String {
    let auth = user.auth();
    let reply = send_binary(
        "POST",
        &functions_url(&format!("files?workspace={workspace}&name={name}")),
        &[("authorization", &auth), ("content-type", "text/plain")],
        Some(text.as_bytes()),
    )
    .text();
    assert_eq!(reply.status, 201, "uploaded: {}", reply.body);
    id_of(&reply.json())
}
