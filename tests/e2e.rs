//! End to end: real HTTP into workerd (through the gateway, as supabase-js would call it), real
//! Postgres underneath with the project's migrations. Cases run one at a time, in order: the
//! last one stops Postgres on purpose.

mod assistant;
mod browser_edge;
mod resend_webhook;
mod support;

use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
use support::*;

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+).into());
        }
    };
}

mod account;
mod api_keys;
mod breaker;
mod channels;
mod files;
mod invitations;
mod manager_reads;
mod members;
mod notes;
mod profile;
mod rate_limits;
mod sessions;
mod share_links;
mod spa_journey;
mod web_crypto_jwt;
mod webhook_processing;
mod whatsapp;
mod workspaces;

fn main() {
    let mut args = Arguments::from_args();
    // Sequential and in order: "postgres down" must run last and alone.
    args.test_threads = Some(1);
    let platform = platform();
    let mut trials = vec![
        Trial::test(
            "gateway: an unknown function is a 404 JSON error",
            gateway_unknown_function,
        ),
        Trial::test("notes: no token is 401", notes_without_token),
        Trial::test(
            "notes: a token signed with another secret is 401",
            notes_forged_token,
        ),
        Trial::test("notes: an expired token is 401", notes_expired_token),
        Trial::test("notes: the anon key is 401 (user required)", notes_anon_key),
        Trial::test(
            "notes: garbage credentials are 401, never 5xx",
            notes_garbage_credentials,
        ),
        Trial::test(
            "notes: tenant A reads only tenant A's rows",
            notes_tenant_a_only,
        ),
        Trial::test(
            "notes: tenant B reads only tenant B's rows",
            notes_tenant_b_only,
        ),
        Trial::test(
            "notes: naming tenant B's workspace with A's token returns nothing (RLS)",
            notes_cross_tenant_read,
        ),
        Trial::test(
            "notes: a malformed workspace id is 400",
            notes_bad_workspace,
        ),
        Trial::test("notes: PUT is 405", notes_wrong_method),
        Trial::test(
            "jwks: an ES256 token verified with the served JWKS reads tenant A's rows",
            jwks_es256_accepted,
        ),
        Trial::test(
            "jwks: an ES256 token with an unknown kid is 401",
            jwks_unknown_kid,
        ),
        Trial::test(
            "jwks: HS256 signed with the public key (alg confusion) is 401",
            jwks_hs256_with_public_key,
        ),
        Trial::test(
            "jwks: the aal2 delete-for-good route refuses aal1 (403) and a stale sign-in (403), accepts aal2",
            jwks_aal2_route,
        ),
        Trial::test(
            "supabase-js: functions.invoke gets the user's rows; the anon key gets 401",
            supabase_js_invoke,
        ),
        Trial::test(
            "paddle: a signed delivery is stored; the retry is stored once",
            paddle_stored_once,
        ),
        Trial::test(
            "paddle: a wrong signature is 401 and stores nothing",
            paddle_wrong_signature,
        ),
        Trial::test("paddle: a stale signature is 401", paddle_stale_signature),
        Trial::test("paddle: a tampered body is 401", paddle_tampered_body),
        Trial::test(
            "paddle: an oversized body is 413 before it is read",
            paddle_oversized,
        ),
        Trial::test(
            "paddle: a chunked body past the cap is 413 while it is still arriving",
            paddle_chunked_oversized,
        ),
        Trial::test(
            "paddle: hostile inputs get JSON 4xx, never 5xx",
            paddle_hostile_inputs,
        ),
        Trial::test(
            "cron: no secret is 401, wrong secret is 401",
            cron_without_secret,
        ),
        Trial::test(
            "cron: with the secret, the job purges and records the run",
            cron_http_runs_job,
        ),
        Trial::test(
            "cron: the scheduled event runs the job",
            cron_scheduled_runs_job,
        ),
        Trial::test(
            "meta: the handshake with a configured token answers the challenge",
            meta_handshake_right_token,
        ),
        Trial::test(
            "meta: the handshake with a wrong or missing token is 403",
            meta_handshake_wrong_token,
        ),
        Trial::test(
            "meta: a signed delivery is stored once; the retry is a duplicate",
            meta_stored_once,
        ),
        Trial::test(
            "meta: a tampered body or a wrong app secret is 401 and stores nothing",
            meta_tampered_body,
        ),
        Trial::test(
            "meta: a delivery for a tenant's number is filed under that tenant",
            meta_filed_under_tenant,
        ),
        Trial::test(
            "meta: a batch naming two tenants' numbers, or an unknown one, is filed under none",
            meta_mixed_batch_filed_under_none,
        ),
        Trial::test(
            "meta: an oversized body is 413 before it is read",
            meta_oversized,
        ),
        Trial::test(
            "mercadopago: a signed notification is stored once; the replay is a duplicate",
            mercadopago_stored_once,
        ),
        Trial::test(
            "mercadopago: a wrong secret is 401 and stores nothing",
            mercadopago_wrong_secret,
        ),
        Trial::test(
            "mercadopago: a stale signature is 401",
            mercadopago_stale_signature,
        ),
        Trial::test(
            "mercadopago: a body data.id other than the signed one is 400",
            mercadopago_payload_mismatch,
        ),
    ];
    // Each product area keeps its cases in a module of its own (`mod <area>;` above `main`,
    // a file tests/<area>.rs with `pub fn trials() -> Vec<Trial>`) and adds them here, one line
    // per area, before the case that stops Postgres.
    trials.extend(workspaces::trials());
    trials.extend(members::trials());
    trials.extend(invitations::trials());
    trials.extend(profile::trials());
    trials.extend(notes::trials());
    trials.extend(webhook_processing::trials());
    trials.extend(channels::trials());
    trials.extend(share_links::trials());
    trials.extend(manager_reads::trials());
    trials.extend(browser_edge::trials());
    trials.extend(resend_webhook::trials());
    trials.extend(spa_journey::trials());
    trials.extend(account::trials());
    trials.extend(api_keys::trials());
    trials.extend(sessions::trials());
    trials.extend(files::trials());
    trials.extend(breaker::trials());
    trials.extend(whatsapp::trials());
    trials.extend(assistant::trials());
    trials.extend(rate_limits::trials());
    trials.extend(web_crypto_jwt::trials());
    // Last of the HTTP cases: it stops Postgres on purpose.
    trials.push(Trial::test(
        "paddle: with Postgres down the delivery is 503, the retry then lands",
        paddle_postgres_down,
    ));
    // A panic resets the WASM instance and answers 500; the cases above would see the 500, and
    // workerd's log shows the panic itself. Only readable when this harness started the platform.
    if let Some(dev) = &platform {
        let log_path = dev.log_path();
        trials.push(Trial::test(
            "workerd logged no panic or WASM trap",
            move || {
                let log = std::fs::read_to_string(&log_path)?;
                for sign in ["Rust panic", "panicked at", "RuntimeError: unreachable"] {
                    check!(!log.contains(sign), "workerd log contains {sign:?}");
                }
                Ok(())
            },
        ));
        trials.push(browser_edge::log_scan(dev.log_path()));
        trials.push(assistant::log_scan(dev.log_path()));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    drop(platform);
    conclusion.exit();
}

fn expect_error(reply: &Reply, status: u16, code: &str) -> TestResult {
    check!(
        reply.status == status,
        "expected {status}, got {}: {}",
        reply.status,
        reply.body
    );
    check!(
        reply.error_code() == code,
        "expected code {code}: {}",
        reply.body
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// gateway + notes (SPA API, Supabase JWT)

fn gateway_unknown_function() -> TestResult {
    expect_error(
        &get(&functions_url("no-such-function"), &[]),
        404,
        "function_not_found",
    )?;
    expect_error(
        &get(&functions_url("../notes"), &[]),
        404,
        "function_not_found",
    )
}

fn notes_without_token() -> TestResult {
    expect_error(
        &get(&functions_url("notes"), &[]),
        401,
        "missing_credentials",
    )
}

fn notes_forged_token() -> TestResult {
    let forged = access_token(
        "attacker-chosen-secret-of-32-characters!",
        "authenticated",
        Some(USER_B),
        unix_now() + 600,
    );
    expect_error(
        &get(
            &functions_url("notes"),
            &[("authorization", &bearer(&forged))],
        ),
        401,
        "invalid_token",
    )
}

fn notes_expired_token() -> TestResult {
    let expired = access_token(
        var("SUPABASE_JWT_SECRET"),
        "authenticated",
        Some(USER_A),
        unix_now() - 120,
    );
    expect_error(
        &get(
            &functions_url("notes"),
            &[("authorization", &bearer(&expired))],
        ),
        401,
        "token_expired",
    )
}

fn notes_anon_key() -> TestResult {
    let anon = access_token(var("SUPABASE_JWT_SECRET"), "anon", None, unix_now() + 600);
    expect_error(
        &get(
            &functions_url("notes"),
            &[("authorization", &bearer(&anon))],
        ),
        401,
        "user_required",
    )
}

fn notes_garbage_credentials() -> TestResult {
    let long = format!("Bearer {}", "x".repeat(20_000));
    for header in [
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b.c",
        "Bearer ...",
        long.as_str(),
        "Bearer e30.e30.",
    ] {
        let reply = get(&functions_url("notes"), &[("authorization", header)]);
        check!(
            reply.status == 401,
            "{header:.40}: {} {}",
            reply.status,
            reply.body
        );
        reply.error_code();
    }
    Ok(())
}

fn note_workspaces(reply: &Reply) -> Result<Vec<String>, libtest_mimic::Failed> {
    check!(
        reply.status == 200,
        "expected 200, got {}: {}",
        reply.status,
        reply.body
    );
    let notes = reply.json();
    let notes = notes.as_array().ok_or("a JSON array")?;
    Ok(notes
        .iter()
        .map(|n| n["workspace_id"].as_str().unwrap_or_default().to_owned())
        .collect())
}

fn notes_tenant_a_only() -> TestResult {
    let reply = get(
        &functions_url("notes"),
        &[("authorization", &bearer(&user_token(USER_A)))],
    );
    let workspaces = note_workspaces(&reply)?;
    check!(
        workspaces.len() >= 2,
        "tenant A's seeded notes are there: {}",
        reply.body
    );
    check!(
        workspaces.iter().all(|w| w == TENANT_A),
        "only tenant A: {workspaces:?}"
    );
    check!(
        !reply.body.contains("Globex"),
        "no trace of tenant B: {}",
        reply.body
    );
    Ok(())
}

fn notes_tenant_b_only() -> TestResult {
    let reply = get(
        &functions_url("notes"),
        &[("authorization", &bearer(&user_token(USER_B)))],
    );
    let workspaces = note_workspaces(&reply)?;
    check!(
        !workspaces.is_empty() && workspaces.iter().all(|w| w == TENANT_B),
        "only tenant B: {workspaces:?}"
    );
    Ok(())
}

fn notes_cross_tenant_read() -> TestResult {
    // The function passes the requested workspace to SQL without checking membership itself:
    // the policies are what stop tenant A from reading tenant B.
    let url = functions_url(&format!("notes?workspace={TENANT_B}"));
    let reply = get(&url, &[("authorization", &bearer(&user_token(USER_A)))]);
    check!(
        note_workspaces(&reply)?.is_empty(),
        "tenant A got tenant B's rows: {}",
        reply.body
    );
    let own = get(
        &functions_url(&format!("notes?workspace={TENANT_B}")),
        &[("authorization", &bearer(&user_token(USER_B)))],
    );
    check!(
        !note_workspaces(&own)?.is_empty(),
        "tenant B reads its own workspace: {}",
        own.body
    );
    Ok(())
}

fn notes_bad_workspace() -> TestResult {
    let reply = get(
        &functions_url("notes?workspace=1%27%20or%201=1"),
        &[("authorization", &bearer(&user_token(USER_A)))],
    );
    expect_error(&reply, 400, "invalid_query")
}

fn notes_wrong_method() -> TestResult {
    let reply = put(
        &functions_url("notes"),
        &[("authorization", &bearer(&user_token(USER_A)))],
        b"{}",
    );
    expect_error(&reply, 405, "method_not_allowed")
}

/// Runs tests/supabase_js_invoke.mjs (the real supabase-js client) and returns (status, body).
fn invoke_with_supabase_js(
    anon_key: &str,
    user_token: Option<&str>,
) -> Result<(u64, serde_json::Value), libtest_mimic::Failed> {
    let mut node = node_for_supabase_js()?;
    let base = format!("http://127.0.0.1:{}", var("LOCAL_FUNCTIONS_PORT"));
    node.arg(repo_root().join("tests/supabase_js_invoke.mjs"))
        .args([&base, anon_key, "notes"]);
    node.args(user_token);
    let output = node.output()?;
    check!(
        output.status.success(),
        "supabase-js script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    Ok((
        result["status"].as_u64().unwrap_or_default(),
        result["data"].clone(),
    ))
}

fn supabase_js_invoke() -> TestResult {
    let anon_key = access_token(var("SUPABASE_JWT_SECRET"), "anon", None, unix_now() + 600);
    let (status, notes) = invoke_with_supabase_js(&anon_key, Some(&user_token(USER_A)))?;
    check!(status == 200, "signed-in invoke: {status} {notes}");
    let workspaces: Vec<&str> = notes
        .as_array()
        .ok_or("an array")?
        .iter()
        .filter_map(|n| n["workspace_id"].as_str())
        .collect();
    check!(
        !workspaces.is_empty() && workspaces.iter().all(|w| *w == TENANT_A),
        "only tenant A: {notes}"
    );
    let (status, error) = invoke_with_supabase_js(&anon_key, None)?;
    check!(
        status == 401 && error["error"]["code"] == "user_required",
        "anon invoke: {status} {error}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// paddle-webhook (Paddle-Signature)

fn paddle_secret() -> &'static str {
    var("PADDLE_WEBHOOK_SECRETS").split(',').next().unwrap()
}

fn deliver(body: &str, signature: &str) -> Reply {
    post(
        &functions_url("paddle-webhook"),
        &[
            ("paddle-signature", signature),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

fn stored_count(event_id: &str) -> i64 {
    superuser()
        .query_one("select count(*) from public.webhook_events where provider = 'paddle' and event_id = $1", &[&event_id])
        .unwrap()
        .get(0)
}

fn paddle_stored_once() -> TestResult {
    let (event_id, body) = paddle_event("once");
    let first = deliver(
        &body,
        &paddle_signature(paddle_secret(), unix_now(), body.as_bytes()),
    );
    check!(
        first.status == 200,
        "first delivery: {} {}",
        first.status,
        first.body
    );
    check!(first.json()["duplicate"] == false, "{}", first.body);
    // Paddle's retry: same event, fresh timestamp and signature.
    let retry = deliver(
        &body,
        &paddle_signature(paddle_secret(), unix_now(), body.as_bytes()),
    );
    check!(
        retry.status == 200,
        "retry: {} {}",
        retry.status,
        retry.body
    );
    check!(retry.json()["duplicate"] == true, "{}", retry.body);
    check!(
        stored_count(&event_id) == 1,
        "exactly one row for {event_id}"
    );
    let raw: String = superuser()
        .query_one(
            "select raw_body from public.webhook_events where event_id = $1",
            &[&event_id],
        )
        .unwrap()
        .get(0);
    check!(raw == body, "the exact signed bytes are stored");
    Ok(())
}

fn paddle_wrong_signature() -> TestResult {
    let (event_id, body) = paddle_event("wrongsig");
    let reply = deliver(
        &body,
        &paddle_signature("pdl_ntfset_attacker", unix_now(), body.as_bytes()),
    );
    expect_error(&reply, 401, "invalid_signature")?;
    check!(
        stored_count(&event_id) == 0,
        "a forged event must not be stored"
    );
    Ok(())
}

fn paddle_stale_signature() -> TestResult {
    let (_, body) = paddle_event("stale");
    let reply = deliver(
        &body,
        &paddle_signature(paddle_secret(), unix_now() - 600, body.as_bytes()),
    );
    expect_error(&reply, 401, "stale_signature")
}

fn paddle_tampered_body() -> TestResult {
    let (event_id, body) = paddle_event("tamper");
    let signature = paddle_signature(paddle_secret(), unix_now(), body.as_bytes());
    let tampered = body.replace("active", "canceled");
    expect_error(&deliver(&tampered, &signature), 401, "invalid_signature")?;
    check!(
        stored_count(&event_id) == 0,
        "a tampered event must not be stored"
    );
    Ok(())
}

fn paddle_oversized() -> TestResult {
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024));
    let reply = deliver(
        &body,
        &paddle_signature(paddle_secret(), unix_now(), body.as_bytes()),
    );
    expect_error(&reply, 413, "payload_too_large")
}

/// A chunked body (no Content-Length) past the cap is refused while it is still arriving: the
/// function must answer 413 before the sender has finished, not after buffering it all. The
/// body's last chunk is never sent, so a function that reads the whole body first never answers.
fn paddle_chunked_oversized() -> TestResult {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", local_functions_port()))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "POST /functions/v1/paddle-webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nPaddle-Signature: ts={};h1={}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        unix_now(),
        "0".repeat(64)
    )?;
    let chunk = vec![b'x'; 64 * 1024];
    // 512 KiB, twice Paddle's 256 KiB cap; the terminating zero-length chunk is withheld.
    for _ in 0..8 {
        write!(stream, "{:x}\r\n", chunk.len())?;
        stream.write_all(&chunk)?;
        stream.write_all(b"\r\n")?;
    }
    stream.flush()?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // Read until the status line and the error code are in, or the read times out.
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        if String::from_utf8_lossy(&answer).contains("payload_too_large") {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    // Only now end the body, as a well-behaved client would, so the connection closes cleanly.
    stream.write_all(b"0\r\n\r\n")?;
    let _ = stream.read_to_end(&mut Vec::new());
    check!(
        answer.starts_with("HTTP/1.1 413") && answer.contains("payload_too_large"),
        "expected 413 payload_too_large before the body ended, got: {:.200}",
        answer
    );
    Ok(())
}

fn paddle_hostile_inputs() -> TestResult {
    let now = unix_now();
    let signed = |body: &[u8]| paddle_signature(paddle_secret(), now, body);
    let cases: Vec<(Vec<u8>, String, u16)> = vec![
        (b"{}".to_vec(), String::new(), 401),
        (b"{}".to_vec(), "ts=;h1=".into(), 401),
        (b"{}".to_vec(), format!("ts={now};h1=nothex"), 401),
        (
            b"{}".to_vec(),
            format!("ts={now}{};h1={}", "9".repeat(40), "0".repeat(64)),
            401,
        ),
        (b"not json".to_vec(), signed(b"not json"), 400),
        (vec![0xff, 0x00, 0xfe], signed(&[0xff, 0x00, 0xfe]), 400),
        (
            br#"{"event_id":[],"event_type":1}"#.to_vec(),
            signed(br#"{"event_id":[],"event_type":1}"#),
            400,
        ),
        (
            br#"{"event_id":"evt_e2e_bad_time","event_type":"x","occurred_at":"not-a-date"}"#
                .to_vec(),
            signed(
                br#"{"event_id":"evt_e2e_bad_time","event_type":"x","occurred_at":"not-a-date"}"#,
            ),
            400,
        ),
    ];
    for (body, signature, status) in cases {
        let mut headers = vec![("content-type", "application/json")];
        if !signature.is_empty() {
            headers.push(("paddle-signature", signature.as_str()));
        }
        let reply = post(&functions_url("paddle-webhook"), &headers, &body);
        check!(
            reply.status == status,
            "{signature:.50} / {:?}: {} {}",
            String::from_utf8_lossy(&body),
            reply.status,
            reply.body
        );
        reply.error_code();
    }
    let get_reply = get(&functions_url("paddle-webhook"), &[]);
    expect_error(&get_reply, 405, "method_not_allowed")
}

// ---------------------------------------------------------------------------------------------
// cron-retention (scheduled event, or X-Cron-Secret over HTTP)

fn cron_secret() -> &'static str {
    var("CRON_SECRETS").split(',').next().unwrap()
}

fn plant_old_processed_event(tag: &str) -> String {
    let event_id = format!("evt_e2e_old_{tag}_{}", unix_now());
    superuser()
        .execute(
            "insert into public.webhook_events (provider, event_id, event_type, payload, raw_body, status, received_at)
             values ('paddle', $1, 't', '{}', '{}', 'processed', now() - interval '400 days')",
            &[&event_id],
        )
        .unwrap();
    event_id
}

fn cron_runs(trigger: &str) -> i64 {
    superuser()
        .query_one(
            "select count(*) from public.cron_runs
              where job = 'purge_processed_webhook_events' and trigger = $1",
            &[&trigger],
        )
        .unwrap()
        .get(0)
}

fn cron_without_secret() -> TestResult {
    let planted = plant_old_processed_event("nosecret");
    expect_error(
        &post(&functions_url("cron-retention"), &[], b""),
        401,
        "missing_credentials",
    )?;
    let wrong = post(
        &functions_url("cron-retention"),
        &[("x-cron-secret", "not-the-cron-secret-at-all")],
        b"",
    );
    expect_error(&wrong, 401, "invalid_cron_secret")?;
    check!(
        stored_count(&planted) == 1,
        "a refused call must not run the job"
    );
    Ok(())
}

fn cron_http_runs_job() -> TestResult {
    let planted = plant_old_processed_event("http");
    let runs_before = cron_runs("http");
    let reply = post(
        &functions_url("cron-retention"),
        &[("x-cron-secret", cron_secret())],
        b"",
    );
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(reply.json()["purged"].as_i64() >= Some(1), "{}", reply.body);
    check!(
        stored_count(&planted) == 0,
        "the old processed event is purged"
    );
    check!(cron_runs("http") == runs_before + 1, "the run is recorded");
    Ok(())
}

fn cron_scheduled_runs_job() -> TestResult {
    // The gateway port reaches fetch handlers only, so the scheduled handler is fired on the
    // function's own workerd, exactly as the platform fires `[triggers] crons`.
    let port = var("LOCAL_FUNCTIONS_PORT").parse::<u16>().unwrap() + 8;
    let planted = plant_old_processed_event("scheduled");
    let runs_before = cron_runs("schedule");
    let script = format!(
        "source ci/lib.sh && export CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_DB=$AUTHENTICATOR_URL && \
         exec wrangler dev -c functions/cron-retention/wrangler.toml --ip 127.0.0.1 --port {port} \
         --inspector-port 0 --show-interactive-dev-session=false"
    );
    let mut worker = Background::spawn("cron-retention alone", &script, "e2e-cron-scheduled.log");
    let url = format!("http://127.0.0.1:{port}/cdn-cgi/handler/scheduled?cron=17+3+*+*+*");
    worker.wait_until(Duration::from_secs(180), || {
        // Up once it answers its route table: `/` is no route of this function.
        try_get(&format!("http://127.0.0.1:{port}/")).map(|r| r.status) == Some(404)
    });
    let reply = get(&url, &[]);
    check!(
        reply.status == 200,
        "scheduled handler: {} {}",
        reply.status,
        reply.body
    );
    check!(
        stored_count(&planted) == 0,
        "the scheduled run purged the old event"
    );
    check!(
        cron_runs("schedule") == runs_before + 1,
        "the scheduled run is recorded"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Asymmetric (ES256) tokens, verified against the JWKS ci/dev serves, fetched by workerd.

fn jwks_es256_accepted() -> TestResult {
    let token = es256_user_token(&local_es256_key(), USER_A, "aal1", None);
    let reply = get(
        &functions_url("notes"),
        &[("Authorization", &bearer(&token))],
    );
    let workspaces = note_workspaces(&reply)?;
    check!(
        !workspaces.is_empty() && workspaces.iter().all(|w| w == TENANT_A),
        "only tenant A's rows: {}",
        reply.body
    );
    Ok(())
}

fn jwks_unknown_kid() -> TestResult {
    let stranger = jwt_simple::prelude::ES256KeyPair::generate().with_key_id("not-published");
    let token = es256_user_token(&stranger, USER_A, "aal1", None);
    let reply = get(
        &functions_url("notes"),
        &[("Authorization", &bearer(&token))],
    );
    expect_error(&reply, 401, "unknown_signing_key")?;
    // A published kid on a token another key signed.
    let impostor = jwt_simple::prelude::ES256KeyPair::generate().with_key_id(var("LOCAL_JWKS_KID"));
    let token = es256_user_token(&impostor, USER_A, "aal1", None);
    let reply = get(
        &functions_url("notes"),
        &[("Authorization", &bearer(&token))],
    );
    expect_error(&reply, 401, "invalid_token")
}

fn jwks_hs256_with_public_key() -> TestResult {
    use jwt_simple::prelude::MACLike;
    let public = local_es256_key().public_key();
    let served = std::fs::read_to_string(repo_root().join("ci/local-jwks.json")).unwrap();
    for secret in [public.to_pem().unwrap(), public.to_jwk(), served] {
        let mut custom = serde_json::Map::new();
        custom.insert("role".into(), "authenticated".into());
        let claims = jwt_simple::prelude::Claims::with_custom_claims(
            custom,
            jwt_simple::prelude::Duration::from_secs(600),
        )
        .with_audience("authenticated")
        .with_subject(USER_A);
        let forged = jwt_simple::prelude::HS256Key::from_bytes(secret.as_bytes())
            .with_key_id(var("LOCAL_JWKS_KID"))
            .authenticate(claims)
            .unwrap();
        let reply = get(
            &functions_url("notes"),
            &[("Authorization", &bearer(&forged))],
        );
        expect_error(&reply, 401, "invalid_token")?;
    }
    Ok(())
}

fn jwks_aal2_route() -> TestResult {
    // Deleting a note for good (skipping the trash) is the aal2 + recent sign-in route.
    let key = local_es256_key();
    let note = create_note(USER_A, TENANT_A, "jwks aal2 case", "team");
    let url = functions_url(&format!("notes?id={}", id_of(&note)));
    let call = |token: String| delete(&url, &[("Authorization", &bearer(&token))]);
    expect_error(
        &call(es256_user_token(&key, USER_A, "aal1", Some(60))),
        403,
        "insufficient_aal",
    )?;
    expect_error(
        &call(es256_user_token(&key, USER_A, "aal2", Some(3600))),
        403,
        "reauthentication_required",
    )?;
    let reply = call(es256_user_token(&key, USER_A, "aal2", Some(60)));
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(
        reply.json()["id"] == id_of(&note).as_str(),
        "the deleted note: {}",
        reply.body
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// webhook rows, as the database holds them

/// `(workspace_id, attempts)` of each stored row for this provider event (at most one).
fn webhook_rows(provider: &str, event_id: &str) -> Vec<(Option<String>, i32)> {
    superuser()
        .query(
            "select workspace_id::text, attempts from public.webhook_events
              where provider = $1 and event_id = $2",
            &[&provider, &event_id],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

fn expect_stored(reply: &Reply, stored: bool) -> TestResult {
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    let json = reply.json();
    check!(
        json["stored"] == stored && json["duplicate"] == !stored,
        "expected stored={stored}: {}",
        reply.body
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// meta-webhook (subscribe handshake, X-Hub-Signature-256)

fn meta_app_secret() -> &'static str {
    var("META_APP_SECRETS").split(',').next().unwrap()
}

fn meta_handshake(verify_token: &str, challenge: &str) -> Reply {
    get(
        &format!(
            "{}?hub.mode=subscribe&hub.challenge={challenge}&hub.verify_token={verify_token}",
            functions_url("meta-webhook")
        ),
        &[],
    )
}

fn meta_post(body: &str, signature: &str) -> Reply {
    post(
        &functions_url("meta-webhook"),
        &[
            ("x-hub-signature-256", signature),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

/// The dedupe key the guard derives: Meta signs no delivery id.
fn meta_event_id(body: &str) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(body)))
}

fn meta_handshake_right_token() -> TestResult {
    let token = var("META_VERIFY_TOKENS").split(',').next().unwrap();
    let reply = meta_handshake(token, "1158201444");
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(
        reply.body == "1158201444",
        "the challenge alone: {:?}",
        reply.body
    );
    check!(
        reply.content_type.starts_with("text/plain"),
        "plain text: {}",
        reply.content_type
    );
    Ok(())
}

fn meta_handshake_wrong_token() -> TestResult {
    let reply = meta_handshake("not-the-verify-token", "1158201444");
    expect_error(&reply, 403, "invalid_verify_token")?;
    check!(
        !reply.body.contains("1158201444"),
        "a refused handshake must not echo the challenge"
    );
    let no_token = get(
        &format!(
            "{}?hub.mode=subscribe&hub.challenge=1158201444",
            functions_url("meta-webhook")
        ),
        &[],
    );
    expect_error(&no_token, 403, "invalid_verify_token")
}

fn meta_stored_once() -> TestResult {
    let body = meta_delivery("once", &[]);
    let event_id = meta_event_id(&body);
    let signature = meta_signature(meta_app_secret(), body.as_bytes());
    expect_stored(&meta_post(&body, &signature), true)?;
    // Meta's retry resends the same bytes with the same signature.
    expect_stored(&meta_post(&body, &signature), false)?;
    let rows = webhook_rows("meta", &event_id);
    check!(
        rows == [(None, 2)],
        "one row, two attempts, no workspace: {rows:?}"
    );
    let raw: String = superuser()
        .query_one(
            "select raw_body from public.webhook_events where provider = 'meta' and event_id = $1",
            &[&event_id],
        )
        .unwrap()
        .get(0);
    check!(raw == body, "the exact signed bytes are stored");
    check!(raw.contains("\\/"), "Meta's escaped `/` is kept as sent");
    Ok(())
}

fn meta_tampered_body() -> TestResult {
    let body = meta_delivery("tamper", &[]);
    let signature = meta_signature(meta_app_secret(), body.as_bytes());
    let tampered = body.replace("hola", "adios");
    expect_error(&meta_post(&tampered, &signature), 401, "invalid_signature")?;
    check!(
        webhook_rows("meta", &meta_event_id(&tampered)).is_empty(),
        "a tampered delivery must not be stored"
    );
    let forged = meta_signature("an-attacker-app-secret", body.as_bytes());
    expect_error(&meta_post(&body, &forged), 401, "invalid_signature")?;
    expect_error(
        &post(&functions_url("meta-webhook"), &[], body.as_bytes()),
        401,
        "missing_signature",
    )?;
    check!(
        webhook_rows("meta", &meta_event_id(&body)).is_empty(),
        "a forged delivery must not be stored"
    );
    Ok(())
}

/// Tenant A's and B's numbers in sql/seed/demo.sql.
const PHONE_A: &str = "200000000000001";
const PHONE_B: &str = "200000000000002";

fn meta_filed_under_tenant() -> TestResult {
    for (phone, tenant) in [(PHONE_A, TENANT_A), (PHONE_B, TENANT_B)] {
        // Two changes for the same number: still wholly that tenant's.
        let body = meta_delivery("tenant", &[phone, phone]);
        let reply = meta_post(&body, &meta_signature(meta_app_secret(), body.as_bytes()));
        expect_stored(&reply, true)?;
        let rows = webhook_rows("meta", &meta_event_id(&body));
        check!(
            rows == [(Some(tenant.to_owned()), 1)],
            "{phone} is {tenant}'s: {rows:?}"
        );
    }
    Ok(())
}

fn meta_mixed_batch_filed_under_none() -> TestResult {
    for numbers in [
        [PHONE_A, PHONE_B],
        [PHONE_A, "299999999999999"],
        [PHONE_A, "not-a-number"],
    ] {
        let body = meta_delivery("mixed", &numbers);
        let reply = meta_post(&body, &meta_signature(meta_app_secret(), body.as_bytes()));
        expect_stored(&reply, true)?;
        let rows = webhook_rows("meta", &meta_event_id(&body));
        check!(
            rows == [(None, 1)],
            "{numbers:?} is stored under no workspace: {rows:?}"
        );
    }
    Ok(())
}

fn meta_oversized() -> TestResult {
    let body = format!(
        "{{\"object\":\"page\",\"pad\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let reply = meta_post(&body, &meta_signature(meta_app_secret(), body.as_bytes()));
    expect_error(&reply, 413, "payload_too_large")
}

// ---------------------------------------------------------------------------------------------
// mercadopago-webhook (x-signature over data.id, x-request-id, ts)

fn mercadopago_secret() -> &'static str {
    var("MERCADOPAGO_WEBHOOK_SECRETS")
        .split(',')
        .next()
        .unwrap()
}

const MP_REQUEST_ID: &str = "2066ca19-c6f1-498a-be75-1923005edd06";

/// POSTs `body` to the notification URL for `data_id`, as Mercado Pago calls it.
fn mercadopago_post(data_id: &str, body: &str, signature: &str) -> Reply {
    post(
        &format!(
            "{}?data.id={data_id}&type=payment",
            functions_url("mercadopago-webhook")
        ),
        &[
            ("x-signature", signature),
            ("x-request-id", MP_REQUEST_ID),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

fn mercadopago_data_id() -> String {
    (unique_suffix() % 100_000_000_000).to_string()
}

fn mercadopago_stored_once() -> TestResult {
    let data_id = mercadopago_data_id();
    let body = mercadopago_notification(&data_id);
    let ts = unix_now();
    let signature = mercadopago_signature(mercadopago_secret(), &data_id, MP_REQUEST_ID, ts);
    expect_stored(&mercadopago_post(&data_id, &body, &signature), true)?;
    // A retry (or a replay of the captured request) carries the same signed parts.
    expect_stored(&mercadopago_post(&data_id, &body, &signature), false)?;
    let rows = webhook_rows("mercadopago", &format!("{data_id}:{MP_REQUEST_ID}:{ts}"));
    check!(rows == [(None, 2)], "one row, two attempts: {rows:?}");
    Ok(())
}

/// Every stored notification about this payment id, whatever its key.
fn mercadopago_rows_for(data_id: &str) -> i64 {
    superuser()
        .query_one(
            "select count(*) from public.webhook_events
              where provider = 'mercadopago' and split_part(event_id, ':', 1) = $1",
            &[&data_id],
        )
        .unwrap()
        .get(0)
}

/// Posts a notification that must be refused with `status`/`code`, and checks nothing was stored.
fn mercadopago_refused(
    data_id: &str,
    body: &str,
    signature: &str,
    status: u16,
    code: &str,
) -> TestResult {
    expect_error(&mercadopago_post(data_id, body, signature), status, code)?;
    check!(
        mercadopago_rows_for(data_id) == 0 && mercadopago_rows_for(&body_data_id(body)) == 0,
        "a refused notification ({code}) must not be stored"
    );
    Ok(())
}

fn body_data_id(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    json["data"]["id"].as_str().unwrap_or_default().to_owned()
}

fn mercadopago_wrong_secret() -> TestResult {
    let data_id = mercadopago_data_id();
    let notification = mercadopago_notification(&data_id);
    let forged = mercadopago_signature("an-attacker-secret", &data_id, MP_REQUEST_ID, unix_now());
    mercadopago_refused(&data_id, &notification, &forged, 401, "invalid_signature")?;
    // Signed for another payment: the signature does not cover this URL's data.id.
    let other = mercadopago_signature(mercadopago_secret(), "1", MP_REQUEST_ID, unix_now());
    mercadopago_refused(&data_id, &notification, &other, 401, "invalid_signature")
}

fn mercadopago_stale_signature() -> TestResult {
    let data_id = mercadopago_data_id();
    let secret = mercadopago_secret();
    let stale = mercadopago_signature(secret, &data_id, MP_REQUEST_ID, unix_now() - 3600);
    let notification = mercadopago_notification(&data_id);
    mercadopago_refused(&data_id, &notification, &stale, 401, "stale_signature")
}

fn mercadopago_payload_mismatch() -> TestResult {
    let signed_id = mercadopago_data_id();
    let signature =
        mercadopago_signature(mercadopago_secret(), &signed_id, MP_REQUEST_ID, unix_now());
    // The body names another payment than the URL's signed data.id.
    let notification = mercadopago_notification("999999999");
    mercadopago_refused(
        &signed_id,
        &notification,
        &signature,
        400,
        "payload_mismatch",
    )
}

// ---------------------------------------------------------------------------------------------
// Postgres down: the provider must be told to retry, and the retry must land.

fn paddle_postgres_down() -> TestResult {
    let (event_id, body) = paddle_event("pgdown");
    ci_lib("pg_stop");
    // In production Hyperdrive stays reachable while the origin is down. wrangler's local
    // Hyperdrive proxy instead crashes when nothing listens on the origin port (4.86: unhandled
    // ECONNREFUSED), so while Postgres is stopped its port accepts and closes connections.
    let origin_down = OriginDown::listen();
    let during = deliver(
        &body,
        &paddle_signature(paddle_secret(), unix_now(), body.as_bytes()),
    );
    drop(origin_down);
    ci_lib("pg_start");
    expect_error(&during, 503, "database_unavailable")?;
    check!(
        stored_count(&event_id) == 0,
        "nothing was stored while Postgres was down"
    );
    let retry = deliver(
        &body,
        &paddle_signature(paddle_secret(), unix_now(), body.as_bytes()),
    );
    check!(
        retry.status == 200 && retry.json()["duplicate"] == false,
        "retry: {} {}",
        retry.status,
        retry.body
    );
    check!(
        stored_count(&event_id) == 1,
        "the retried event is stored once"
    );
    Ok(())
}
