//! Webhook processing end to end: what a verified delivery changes (Paddle → billing_accounts,
//! Mercado Pago → the payment fetched from the API stand-in), ordering by the provider's time,
//! failures recorded on the mirror row, the replay command and its idempotency, and the
//! deliveries the old code refused forever (`\u0000`) or stored twice (a replayed Mercado Pago
//! signature with another body).

use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "paddle processing: subscription and transaction events update billing_accounts in order",
            paddle_events_update_billing,
        ),
        Trial::test(
            "paddle processing: an older event never overwrites newer state (stale)",
            paddle_older_event_is_stale,
        ),
        Trial::test(
            "paddle processing: an event for no workspace is stored and marked failed with the reason",
            paddle_unroutable_event_fails_on_the_row,
        ),
        Trial::test(
            "paddle processing: a checkout naming another tenant's workspace cannot take over its live subscription",
            paddle_checkout_cannot_take_over,
        ),
        Trial::test(
            "\\u0000: a signed Paddle delivery containing U+0000 is stored (raw bytes exact) and processed",
            paddle_nul_character_is_stored,
        ),
        Trial::test(
            "\\u0000: a signed Meta delivery containing U+0000 is stored",
            meta_nul_character_is_stored,
        ),
        Trial::test(
            "mercadopago processing: the payment fetched by the signed id updates billing, newer state wins",
            mercadopago_payment_fetched_and_applied,
        ),
        Trial::test(
            "mercadopago: a replayed signature with a different body stores nothing new",
            mercadopago_replayed_signature_other_body,
        ),
        Trial::test(
            "mercadopago processing: an API refusal is recorded on the row; the replay applies it later",
            mercadopago_failure_recorded_then_replayed,
        ),
        Trial::test(
            "replay: stored, unprocessed events are processed; running it twice changes nothing",
            replay_processes_pending_and_is_idempotent,
        ),
        Trial::test(
            "replay: no cron secret is 401, a wrong one 401",
            replay_needs_the_cron_secret,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Paddle

fn paddle_post(body: &str) -> Reply {
    let secret = var("PADDLE_WEBHOOK_SECRETS").split(',').next().unwrap();
    post(
        &functions_url("paddle-webhook"),
        &[
            (
                "paddle-signature",
                &paddle_signature(secret, unix_now(), body.as_bytes()),
            ),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

/// A Paddle event as Paddle sends it, with a unique event id.
fn paddle_billing_event(event_type: &str, occurred_at: &str, data: Value) -> String {
    json!({
        "event_id": format!("evt_e2eproc{}", unique_suffix()),
        "event_type": event_type,
        "occurred_at": occurred_at,
        "notification_id": "ntf_e2e",
        "data": data,
    })
    .to_string()
}

fn subscription(id: &str, customer: &str, status: &str, workspace: &str) -> Value {
    json!({
        "id": id, "status": status, "customer_id": customer,
        "current_billing_period": { "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z" },
        "custom_data": { "workspace_id": workspace }
    })
}

/// Delivers and returns the processing outcome the function answered with.
fn deliver_outcome(body: &str) -> Result<String, libtest_mimic::Failed> {
    let reply = paddle_post(body);
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(reply.json()["stored"] == true, "{}", reply.body);
    Ok(reply.json()["outcome"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// (status, paddle_subscription_id, paddle_customer_id, paddle_event_at) of a billing account.
fn paddle_billing(workspace: &str) -> (String, Option<String>, Option<String>, Option<String>) {
    let row = superuser()
        .query_one(
            "select status, paddle_subscription_id, paddle_customer_id,
                    to_char(paddle_event_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
               from public.billing_accounts where workspace_id = $1::text::uuid",
            &[&workspace],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

fn fresh_ids() -> (String, String) {
    let tag = unique_digits();
    (format!("sub_e2e{tag}"), format!("ctm_e2e{tag}"))
}

fn paddle_events_update_billing() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e billing order");
    let (sub, ctm) = fresh_ids();
    let steps = [
        (
            "subscription.created",
            "2026-11-01T00:00:00Z",
            "active",
            "active",
        ),
        (
            "subscription.past_due",
            "2026-11-02T00:00:00Z",
            "past_due",
            "past_due",
        ),
        (
            "subscription.updated",
            "2026-11-03T00:00:00Z",
            "active",
            "active",
        ),
    ];
    for (event_type, at, status, expected) in steps {
        let body =
            paddle_billing_event(event_type, at, subscription(&sub, &ctm, status, &workspace));
        let outcome = deliver_outcome(&body)?;
        check!(outcome == "applied", "{event_type}: {outcome}");
        let billing = paddle_billing(&workspace);
        check!(
            billing
                == (
                    expected.to_owned(),
                    Some(sub.clone()),
                    Some(ctm.clone()),
                    Some(at.to_owned())
                ),
            "{event_type}: {billing:?}"
        );
    }
    // A completed payment of the subscription keeps it active and moves the period on.
    let transaction = json!({
        "id": "txn_e2e", "status": "completed", "customer_id": ctm, "subscription_id": sub,
        "billing_period": { "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z" }
    });
    let body = paddle_billing_event("transaction.completed", "2026-11-04T00:00:00Z", transaction);
    check!(
        deliver_outcome(&body)? == "applied",
        "transaction.completed"
    );
    let period_end: String = superuser()
        .query_one(
            "select to_char(current_period_end at time zone 'UTC', 'YYYY-MM-DD')
               from public.billing_accounts where workspace_id = $1::text::uuid",
            &[&workspace],
        )
        .unwrap()
        .get(0);
    check!(period_end == "2027-01-01", "period end: {period_end}");
    let body = paddle_billing_event(
        "subscription.canceled",
        "2026-11-05T00:00:00Z",
        json!({ "id": sub, "status": "canceled", "customer_id": ctm }),
    );
    check!(
        deliver_outcome(&body)? == "applied",
        "subscription.canceled"
    );
    check!(
        paddle_billing(&workspace).0 == "canceled",
        "{:?}",
        paddle_billing(&workspace)
    );
    // Each delivery's mirror row is marked processed in the transaction that applied it.
    let event_id = serde_json::from_str::<Value>(&body)?["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, note) = mirror_row("paddle", &event_id);
    check!(
        status == "processed" && note.as_deref() == Some("applied"),
        "{status} {note:?}"
    );
    Ok(())
}

/// (status, processing_note) of a stored event.
fn mirror_row(provider: &str, event_id: &str) -> (String, Option<String>) {
    let row = superuser()
        .query_one(
            "select status, processing_note from public.webhook_events
              where provider = $1 and event_id = $2",
            &[&provider, &event_id],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

fn paddle_older_event_is_stale() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e billing stale");
    let (sub, ctm) = fresh_ids();
    let newer = paddle_billing_event(
        "subscription.canceled",
        "2026-11-10T00:00:00Z",
        json!({ "id": sub, "status": "canceled", "customer_id": ctm, "custom_data": { "workspace_id": workspace } }),
    );
    check!(deliver_outcome(&newer)? == "applied", "the newer event");
    // Paddle delivers the older update late.
    let older = paddle_billing_event(
        "subscription.updated",
        "2026-11-09T00:00:00Z",
        subscription(&sub, &ctm, "active", &workspace),
    );
    let outcome = deliver_outcome(&older)?;
    check!(outcome == "stale", "the older event: {outcome}");
    let billing = paddle_billing(&workspace);
    check!(
        billing.0 == "canceled" && billing.3.as_deref() == Some("2026-11-10T00:00:00Z"),
        "the newer state stays: {billing:?}"
    );
    Ok(())
}

fn paddle_unroutable_event_fails_on_the_row() -> TestResult {
    let (sub, ctm) = fresh_ids();
    let body = paddle_billing_event(
        "subscription.created",
        "2026-11-01T00:00:00Z",
        json!({ "id": sub, "status": "active", "customer_id": ctm }),
    );
    let event_id = serde_json::from_str::<Value>(&body)?["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Stored (2xx: Paddle stops retrying) even though nothing can be applied.
    check!(deliver_outcome(&body)? == "failed: no_workspace", "outcome");
    let (status, note) = mirror_row("paddle", &event_id);
    check!(
        status == "failed" && note.as_deref() == Some("no_workspace"),
        "{status} {note:?}"
    );
    Ok(())
}

fn paddle_checkout_cannot_take_over() -> TestResult {
    let victim = fresh_workspace(USER_A, "e2e billing victim");
    let (sub, ctm) = fresh_ids();
    let body = paddle_billing_event(
        "subscription.created",
        "2026-11-01T00:00:00Z",
        subscription(&sub, &ctm, "active", &victim),
    );
    check!(
        deliver_outcome(&body)? == "applied",
        "the victim subscribes"
    );
    // The attacker checks out naming the victim's workspace, then cancels their own subscription.
    let (attacker_sub, attacker_ctm) = fresh_ids();
    for (event_type, at, status) in [
        ("subscription.created", "2026-11-02T00:00:00Z", "active"),
        ("subscription.canceled", "2026-11-03T00:00:00Z", "canceled"),
    ] {
        let body = paddle_billing_event(
            event_type,
            at,
            subscription(&attacker_sub, &attacker_ctm, status, &victim),
        );
        let outcome = deliver_outcome(&body)?;
        check!(
            outcome == "failed: subscription_conflict",
            "{event_type}: {outcome}"
        );
    }
    let billing = paddle_billing(&victim);
    check!(
        billing.0 == "active" && billing.1.as_deref() == Some(sub.as_str()),
        "the victim's subscription stays: {billing:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// U+0000: jsonb cannot hold it; the old code answered 400 to every retry of such a delivery.

fn paddle_nul_character_is_stored() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e nul");
    let (sub, ctm) = fresh_ids();
    let mut data = subscription(&sub, &ctm, "active", &workspace);
    data["custom_data"]["note"] = json!("before\u{0}after");
    let body = paddle_billing_event("subscription.created", "2026-11-01T00:00:00Z", data);
    check!(
        body.contains("\\u0000"),
        "the body carries the escape: {body}"
    );
    let reply = paddle_post(&body);
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(reply.json()["outcome"] == "applied", "{}", reply.body);
    let event_id = serde_json::from_str::<Value>(&body)?["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (raw, note): (String, String) = {
        let row = superuser()
            .query_one(
                "select raw_body, payload #>> '{data,custom_data,note}' from public.webhook_events
                  where provider = 'paddle' and event_id = $1",
                &[&event_id],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    check!(raw == body, "the exact signed bytes are stored");
    check!(
        note == "before\u{fffd}after",
        "the payload holds U+FFFD: {note:?}"
    );
    check!(
        paddle_billing(&workspace).0 == "active",
        "and it was processed"
    );
    Ok(())
}

fn meta_nul_character_is_stored() -> TestResult {
    let body = meta_delivery("nul", &[]).replace("hello", "hel\\u0000lo");
    let secret = var("META_APP_SECRETS").split(',').next().unwrap();
    let reply = post(
        &functions_url("meta-webhook"),
        &[
            (
                "x-hub-signature-256",
                &meta_signature(secret, body.as_bytes()),
            ),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    );
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(reply.json()["stored"] == true, "{}", reply.body);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Mercado Pago: act on the payment fetched by the signed data.id, never on the body.

const MP_REQUEST_ID: &str = "5a2a1a52-8f7e-4a0e-9b2d-2b1c6f0e7d11";

fn mercadopago_secret() -> &'static str {
    var("MERCADOPAGO_WEBHOOK_SECRETS")
        .split(',')
        .next()
        .unwrap()
}

/// POSTs a notification for `payment_id` signed now, with a request id of its own as Mercado
/// Pago sends each notification; returns the reply and the dedupe key.
fn mercadopago_notify(payment_id: &str, body: &str) -> (Reply, String) {
    let ts = unix_now();
    let request_id = format!("e2e-{}", unique_digits());
    let signature = mercadopago_signature(mercadopago_secret(), payment_id, &request_id, ts);
    (
        mercadopago_post_signed(payment_id, body, &signature, &request_id),
        format!("{payment_id}:{request_id}:{ts}"),
    )
}

fn mercadopago_post_signed(
    payment_id: &str,
    body: &str,
    signature: &str,
    request_id: &str,
) -> Reply {
    post(
        &format!(
            "{}?data.id={payment_id}&type=payment",
            functions_url("mercadopago-webhook")
        ),
        &[
            ("x-signature", signature),
            ("x-request-id", request_id),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    )
}

fn payment(id: &str, status: &str, workspace: &str, updated: &str, payer: &str) -> Value {
    json!({
        "id": id.parse::<u64>().unwrap(), "status": status, "status_detail": "accredited",
        "external_reference": workspace, "date_created": "2026-11-01T10:00:00.000-04:00",
        "date_last_updated": updated, "transaction_amount": 10, "currency_id": "BRL",
        "payer": { "id": payer, "email": "payer@example.test" }
    })
}

/// The API stand-in serves `id` as an approved payment of `workspace` by `payer`.
fn serve_approved_payment(id: &str, workspace: &str, payer: &str) {
    mercadopago_serve_payment(
        id,
        &payment(
            id,
            "approved",
            workspace,
            "2026-11-01T10:05:00.000-04:00",
            payer,
        ),
    );
}

/// (payment id, status, customer id) of a billing account's Mercado Pago state.
fn mercadopago_billing(workspace: &str) -> (Option<String>, Option<String>, Option<String>) {
    let row = superuser()
        .query_one(
            "select mercadopago_payment_id, mercadopago_payment_status, mercadopago_customer_id
               from public.billing_accounts where workspace_id = $1::text::uuid",
            &[&workspace],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

fn mercadopago_payment_fetched_and_applied() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e mercadopago");
    let id = unique_digits();
    let payer = format!("payer{id}");
    // What the API serves at each notification → the outcome, and the state it leaves.
    let steps = [
        (
            "approved",
            "2026-11-01T10:05:00.000-04:00",
            "applied",
            "approved",
        ),
        // Refunded later: a new notification, the newer state.
        (
            "refunded",
            "2026-11-02T10:00:00.000-04:00",
            "applied",
            "refunded",
        ),
        // An older state (a lagging replica) changes nothing.
        (
            "approved",
            "2026-11-01T11:00:00.000-04:00",
            "stale",
            "refunded",
        ),
    ];
    for (status, updated, outcome, expected) in steps {
        mercadopago_serve_payment(&id, &payment(&id, status, &workspace, updated, &payer));
        // The unsigned body claims something else; only the fetched payment counts.
        let body = mercadopago_notification(&id).replace("payment.updated", "payment.created");
        let (reply, _) = mercadopago_notify(&id, &body);
        check!(reply.status == 200, "{} {}", reply.status, reply.body);
        check!(
            reply.json()["outcome"] == outcome,
            "{status}: {}",
            reply.body
        );
        let billing = mercadopago_billing(&workspace);
        check!(
            billing == (Some(id.clone()), Some(expected.into()), Some(payer.clone())),
            "{status}: {billing:?}"
        );
    }
    Ok(())
}

fn mercadopago_replayed_signature_other_body() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e mercadopago replay");
    let id = unique_digits();
    serve_approved_payment(&id, &workspace, "p1");
    let ts = unix_now();
    let signature = mercadopago_signature(mercadopago_secret(), &id, MP_REQUEST_ID, ts);
    let original = mercadopago_notification(&id);
    let first = mercadopago_post_signed(&id, &original, &signature, MP_REQUEST_ID);
    check!(first.json()["stored"] == true, "{}", first.body);
    // An eavesdropper replays the captured signature with a body of its own (another
    // notification id, another action, extra fields): the signed parts are the same.
    let forged = mercadopago_notification(&id)
        .replace("payment.updated", "payment.created")
        .replace(
            "\"live_mode\":false",
            "\"live_mode\":true,\"injected\":\"x\"",
        );
    check!(forged != original, "the bodies differ");
    let replay = mercadopago_post_signed(&id, &forged, &signature, MP_REQUEST_ID);
    check!(replay.status == 200, "{} {}", replay.status, replay.body);
    check!(
        replay.json()["stored"] == false && replay.json()["duplicate"] == true,
        "{}",
        replay.body
    );
    let rows: Vec<(String, i32)> = superuser()
        .query(
            "select raw_body, attempts from public.webhook_events
              where provider = 'mercadopago' and split_part(event_id, ':', 1) = $1",
            &[&id],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    check!(
        rows == [(original.clone(), 2)],
        "one row, the first body, two attempts: {rows:?}"
    );
    Ok(())
}

fn mercadopago_failure_recorded_then_replayed() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e mercadopago later");
    let id = unique_digits();
    // Mercado Pago's API does not know the payment (yet): stored, processing failed on the row.
    let (reply, event_id) = mercadopago_notify(&id, &mercadopago_notification(&id));
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(reply.json()["stored"] == true, "{}", reply.body);
    check!(
        reply.json()["outcome"] == "failed: mercadopago_api: status 404",
        "{}",
        reply.body
    );
    let (status, note) = mirror_row("mercadopago", &event_id);
    check!(
        status == "failed" && note.as_deref() == Some("mercadopago_api: status 404"),
        "{status} {note:?}"
    );
    serve_approved_payment(&id, &workspace, "p2");
    // The back-off has passed.
    superuser()
        .execute(
            "update public.webhook_events set processed_at = now() - interval '1 hour'
              where provider = 'mercadopago' and event_id = $1",
            &[&event_id],
        )
        .unwrap();
    let replay = run_replay();
    check!(replay.status == 200, "{} {}", replay.status, replay.body);
    check!(
        mirror_row("mercadopago", &event_id) == ("processed".into(), Some("applied".into())),
        "{:?}",
        mirror_row("mercadopago", &event_id)
    );
    check!(
        mercadopago_billing(&workspace).1.as_deref() == Some("approved"),
        "{:?}",
        mercadopago_billing(&workspace)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The replay command

fn run_replay() -> Reply {
    let secret = var("CRON_SECRETS").split(',').next().unwrap();
    post(
        &functions_url("webhook-replay"),
        &[("x-cron-secret", secret)],
        b"",
    )
}

/// Every stored event's processing state and every billing account, as text.
fn processing_snapshot() -> String {
    let db = &mut superuser();
    let events: Vec<String> = db
        .query(
            "select concat_ws('|', id, status, processing_note, processed_at, processing_attempts, workspace_id)
               from public.webhook_events order by id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let billing: Vec<String> = db
        .query(
            "select b::text from public.billing_accounts b order by workspace_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    format!("{}\n--\n{}", events.join("\n"), billing.join("\n"))
}

/// Plants a delivery as stored but never processed (the request that stored it ended before
/// processing, or came before processing existed).
fn plant_unprocessed(
    provider: &str,
    event_id: &str,
    event_type: &str,
    payload: &Value,
    resource: Option<&str>,
) {
    superuser()
        .execute(
            "insert into public.webhook_events
               (provider, event_id, event_type, occurred_at, payload, raw_body, resource_id)
             values ($1, $2, $3, ($4::text::jsonb ->> 'occurred_at')::timestamptz, $4::text::jsonb, $4::text, $5)",
            &[&provider, &event_id, &event_type, &payload.to_string(), &resource],
        )
        .unwrap();
}

fn replay_processes_pending_and_is_idempotent() -> TestResult {
    // Start from an empty queue, so what the next run does is ours to check.
    for _ in 0..50 {
        let drained = run_replay();
        check!(drained.status == 200, "{} {}", drained.status, drained.body);
        if drained.json()["replayed"] == 0 {
            break;
        }
    }
    let workspace = fresh_workspace(USER_A, "e2e replay");
    let (sub, ctm) = fresh_ids();
    let paddle_id = format!("evt_e2ereplay{}", unique_suffix());
    let event = json!({
        "event_id": paddle_id, "event_type": "subscription.created",
        "occurred_at": "2026-11-01T00:00:00Z", "data": subscription(&sub, &ctm, "active", &workspace)
    });
    plant_unprocessed("paddle", &paddle_id, "subscription.created", &event, None);
    let payment_id = unique_digits();
    serve_approved_payment(&payment_id, &workspace, "p3");
    let mp_id = format!("{payment_id}:{MP_REQUEST_ID}:{}", unix_now());
    plant_unprocessed(
        "mercadopago",
        &mp_id,
        "payment.updated",
        &json!({ "id": 1, "type": "payment", "data": { "id": payment_id } }),
        Some(&payment_id),
    );

    let first = run_replay();
    check!(first.status == 200, "{} {}", first.status, first.body);
    check!(
        first.json()["outcomes"]["applied"].as_u64() >= Some(2),
        "both applied: {}",
        first.body
    );
    check!(
        mirror_row("paddle", &paddle_id) == ("processed".into(), Some("applied".into())),
        "{:?}",
        mirror_row("paddle", &paddle_id)
    );
    check!(
        mirror_row("mercadopago", &mp_id) == ("processed".into(), Some("applied".into())),
        "{:?}",
        mirror_row("mercadopago", &mp_id)
    );
    check!(paddle_billing(&workspace).0 == "active", "paddle applied");
    check!(
        mercadopago_billing(&workspace).1.as_deref() == Some("approved"),
        "payment applied"
    );

    let before = processing_snapshot();
    let second = run_replay();
    check!(second.status == 200, "{} {}", second.status, second.body);
    check!(second.json()["replayed"] == 0, "{}", second.body);
    check!(
        processing_snapshot() == before,
        "the second run changed the database"
    );

    // Re-processing an applied event (put back in the queue by hand) changes no state either.
    superuser()
        .execute(
            "update public.webhook_events set status = 'received' where provider = 'paddle' and event_id = $1",
            &[&paddle_id],
        )
        .unwrap();
    let billing_before = paddle_billing(&workspace);
    let again = run_replay();
    check!(
        again.json()["outcomes"]["stale"].as_u64() >= Some(1),
        "{}",
        again.body
    );
    check!(
        paddle_billing(&workspace) == billing_before,
        "re-processing changed billing"
    );
    Ok(())
}

fn replay_needs_the_cron_secret() -> TestResult {
    expect_error(
        &post(&functions_url("webhook-replay"), &[], b""),
        401,
        "missing_credentials",
    )?;
    expect_error(
        &post(
            &functions_url("webhook-replay"),
            &[("x-cron-secret", "not-the-cron-secret-at-all")],
            b"",
        ),
        401,
        "invalid_cron_secret",
    )
}
