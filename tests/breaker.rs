//! The circuit breakers end to end (functions/circuit-breaker, edge_adapter's upstream module):
//! a failing provider (the stand-ins told to fail or hang) opens its breaker; an open breaker
//! answers 503 `upstream_unavailable` with `Retry-After` without calling the provider (the
//! stand-in's request count proves it); after the open period one probe goes through; recovery
//! closes it. The state is one Durable Object per provider, so two different workers calling the
//! same provider share it.

use std::time::Duration;

use libtest_mimic::Trial;

use crate::support::*;

const GRAPH: u16 = 10;
const MERCADOPAGO: u16 = 11;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "circuit-breaker: the state listing needs the cron secret (401)",
            listing_needs_the_cron_secret,
        ),
        Trial::test(
            "breaker (Meta Graph API, through channels): failures and a timeout open it; open fails fast with 503 + Retry-After without calling Meta; a failed probe reopens it; recovery closes it",
            graph_breaker_opens_probes_and_closes,
        ),
        Trial::test(
            "breaker (Mercado Pago): tripped through mercadopago-webhook, webhook-replay fails fast too; recovery closes it for both",
            mercadopago_breaker_is_shared_by_two_workers,
        ),
    ]
}

fn threshold() -> u32 {
    var("BREAKER_FAILURE_THRESHOLD").parse().unwrap()
}

fn open_period() -> Duration {
    Duration::from_secs(var("BREAKER_OPEN_SECS").parse().unwrap())
}

fn listing_needs_the_cron_secret() -> TestResult {
    let reply = get(&functions_url("circuit-breaker"), &[]);
    check!(
        reply.status == 401 && reply.error_code() == "missing_credentials",
        "{} {}",
        reply.status,
        reply.body
    );
    let wrong = get(
        &functions_url("circuit-breaker"),
        &[("x-cron-secret", "not-the-secret")],
    );
    check!(wrong.status == 401, "{} {}", wrong.status, wrong.body);
    Ok(())
}

fn graph_breaker_opens_probes_and_closes() -> TestResult {
    stand_in_fault(GRAPH, "ok", 0);
    check!(
        breaker_settled("meta-graph"),
        "the Graph API breaker stayed open"
    );
    let workspace = fresh_workspace(USER_A, "e2e breaker graph");
    let (token, waba, phones) = graph_business(3);
    let connect = |phone: &str| connect_channel(USER_A, &workspace, &waba, phone, &token);
    let unavailable =
        |reply: &Reply| reply.status == 503 && reply.error_code() == "upstream_unavailable";
    // Healthy first: this call closes a breaker an earlier run left open.
    let (healthy, _) = connect(&phones[2]);
    check!(healthy.status == 201, "{} {}", healthy.status, healthy.body);
    check!(
        breaker_state("meta-graph")["state"] == "closed",
        "closed while Meta answers"
    );

    // Failing: Meta answers 503, each failure reaches Meta and is counted.
    stand_in_fault(GRAPH, "fail", 0);
    for _ in 1..threshold() {
        let (reply, retry_after) = connect(&phones[0]);
        check!(unavailable(&reply), "{} {}", reply.status, reply.body);
        check!(
            retry_after.is_none(),
            "not the breaker yet: {retry_after:?}"
        );
    }
    check!(
        breaker_state("meta-graph")["state"] == "closed",
        "closed below the threshold"
    );
    // The last failure is a timeout: Meta does not answer within UPSTREAM_TIMEOUT_MS.
    let timeout_ms: u64 = var("UPSTREAM_TIMEOUT_MS").parse().unwrap();
    stand_in_fault(GRAPH, "slow", timeout_ms * 3);
    let (reply, _) = connect(&phones[0]);
    check!(
        unavailable(&reply),
        "timed out: {} {}",
        reply.status,
        reply.body
    );
    let open = breaker_state("meta-graph");
    check!(open["state"] == "open", "open after the threshold: {open}");

    // Open: refused at once, Meta is not called.
    let before = stand_in_requests(GRAPH);
    let (reply, retry_after) = connect(&phones[0]);
    check!(unavailable(&reply), "{} {}", reply.status, reply.body);
    let retry_after = retry_after.ok_or("an open breaker's 503 carries Retry-After")?;
    check!(
        (1..=open_period().as_secs()).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    check!(
        stand_in_requests(GRAPH) == before,
        "Meta was called while open"
    );
    check!(
        breaker_state("meta-graph") == open,
        "the refusal changed nothing"
    );

    // Half-open: after Retry-After one probe reaches Meta; it fails, so the breaker opens again.
    stand_in_fault(GRAPH, "fail", 0);
    std::thread::sleep(Duration::from_secs(retry_after));
    let (probe, _) = connect(&phones[0]);
    check!(unavailable(&probe), "{} {}", probe.status, probe.body);
    check!(
        stand_in_requests(GRAPH) == before + 1,
        "exactly the probe reached Meta"
    );
    let reopened = breaker_state("meta-graph");
    check!(
        reopened["state"] == "open" && reopened["until_ms"] != open["until_ms"],
        "a failed probe opens it for another period: {reopened}"
    );
    let (reply, retry_after) = connect(&phones[0]);
    check!(
        unavailable(&reply) && retry_after.is_some(),
        "{} {}",
        reply.status,
        reply.body
    );
    check!(
        stand_in_requests(GRAPH) == before + 1,
        "Meta was called while open"
    );

    // Recovered: the next probe succeeds and closes it; calls go through again.
    stand_in_fault(GRAPH, "ok", 0);
    std::thread::sleep(Duration::from_secs(retry_after.unwrap_or(1)));
    let (connected, _) = connect(&phones[0]);
    check!(
        connected.status == 201,
        "{} {}",
        connected.status,
        connected.body
    );
    check!(
        breaker_state("meta-graph")["state"] == "closed",
        "closed after recovery"
    );
    let (second, _) = connect(&phones[1]);
    check!(second.status == 201, "{} {}", second.status, second.body);
    Ok(())
}

/// A signed Mercado Pago notification for payment `id`; returns the reply's outcome and the
/// stored event's id.
fn notify_payment(id: &str) -> (String, String) {
    let ts = unix_now();
    let request_id = format!("e2e-breaker-{}", unique_digits());
    let secret = var("MERCADOPAGO_WEBHOOK_SECRETS")
        .split(',')
        .next()
        .unwrap();
    let signature = mercadopago_signature(secret, id, &request_id, ts);
    let reply = post(
        &format!(
            "{}?data.id={id}&type=payment",
            functions_url("mercadopago-webhook")
        ),
        &[
            ("x-signature", &signature),
            ("x-request-id", &request_id),
            ("content-type", "application/json"),
        ],
        mercadopago_notification(id).as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let outcome = reply.json()["outcome"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (outcome, format!("{id}:{request_id}:{ts}"))
}

/// Makes the stored events due for the replay now (their back-off over), ahead of any other
/// failed event waiting (the replay takes the least recently tried first).
fn make_due(event_ids: &[String]) {
    superuser()
        .execute(
            "update public.webhook_events set processed_at = '2000-01-01'
              where provider = 'mercadopago' and event_id = any($1)",
            &[&event_ids],
        )
        .unwrap();
}

fn processing_notes(event_ids: &[String]) -> Vec<String> {
    superuser()
        .query(
            "select coalesce(processing_note, status) from public.webhook_events
              where provider = 'mercadopago' and event_id = any($1) order by id",
            &[&event_ids],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn run_replay() -> Reply {
    let secret = var("CRON_SECRETS").split(',').next().unwrap();
    post(
        &functions_url("webhook-replay"),
        &[("x-cron-secret", secret)],
        b"",
    )
}

fn mercadopago_breaker_is_shared_by_two_workers() -> TestResult {
    stand_in_fault(MERCADOPAGO, "ok", 0);
    check!(
        breaker_settled("mercadopago"),
        "the Mercado Pago breaker stayed open"
    );
    let workspace = fresh_workspace(USER_A, "e2e breaker mercadopago");
    let id = unique_digits();
    mercadopago_serve_payment(&id, &approved(&id, &workspace, 5));
    let (outcome, _) = notify_payment(&id);
    check!(
        outcome == "applied",
        "while Mercado Pago answers: {outcome}"
    );
    check!(
        breaker_state("mercadopago")["state"] == "closed",
        "closed while it answers"
    );
    // Worker 1, mercadopago-webhook: each notification's payment fetch fails; the delivery is
    // stored all the same (200) and the failure recorded on it.
    stand_in_fault(MERCADOPAGO, "fail", 0);
    let mut events = Vec::new();
    let mut payments = Vec::new();
    for _ in 0..threshold() {
        let id = unique_digits();
        let (outcome, event_id) = notify_payment(&id);
        check!(
            outcome == "failed: mercadopago_api: upstream_unavailable",
            "{outcome}"
        );
        payments.push(id);
        events.push(event_id);
    }
    check!(
        breaker_state("mercadopago")["state"] == "open",
        "open after the threshold"
    );

    // Worker 2, webhook-replay: its fetches of the same payments are refused by the shared
    // breaker without reaching Mercado Pago.
    let before = stand_in_requests(MERCADOPAGO);
    make_due(&events);
    let replay = run_replay();
    check!(replay.status == 200, "{} {}", replay.status, replay.body);
    check!(
        stand_in_requests(MERCADOPAGO) == before,
        "Mercado Pago was called while open"
    );
    let notes = processing_notes(&events);
    check!(
        notes
            .iter()
            .all(|n| n == "mercadopago_api: upstream_unavailable"),
        "refused by the breaker: {notes:?}"
    );

    // Recovered: after the open period webhook-replay's probe succeeds and closes the breaker.
    stand_in_fault(MERCADOPAGO, "ok", 0);
    for (minute, id) in (10..).zip(&payments) {
        mercadopago_serve_payment(id, &approved(id, &workspace, minute));
    }
    std::thread::sleep(open_period());
    make_due(&events);
    let replay = run_replay();
    check!(replay.status == 200, "{} {}", replay.status, replay.body);
    let notes = processing_notes(&events);
    check!(
        notes.iter().all(|n| n == "applied"),
        "applied after recovery: {notes:?}"
    );
    check!(
        breaker_state("mercadopago")["state"] == "closed",
        "closed after recovery"
    );
    // Closed for worker 1 too.
    let id = unique_digits();
    mercadopago_serve_payment(&id, &approved(&id, &workspace, 59));
    let (outcome, _) = notify_payment(&id);
    check!(outcome == "applied", "{outcome}");
    Ok(())
}

/// An approved payment last updated `minute` minutes past 10:00 (a later update applies, an
/// earlier or equal one is stale for the workspace's billing state).
fn approved(id: &str, workspace: &str, minute: u32) -> serde_json::Value {
    serde_json::json!({
        "id": id.parse::<u64>().unwrap(), "status": "approved", "status_detail": "accredited",
        "external_reference": workspace, "date_created": "2026-11-01T10:00:00.000-04:00",
        "date_last_updated": format!("2026-11-01T10:{minute:02}:00.000-04:00"), "transaction_amount": 10,
        "currency_id": "BRL", "payer": { "id": "breaker-payer", "email": "payer@example.test" }
    })
}
