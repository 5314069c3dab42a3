//! End-to-end cases of `resend-webhook`: Resend's delivery events, signed the Standard Webhooks
//! way, stored once by `webhook-id`; bounces and complaints recorded for the tagged tenant.

use libtest_mimic::Trial;
use serde_json::json;

use crate::support::*;

type Headers = Vec<(&'static str, String)>;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "resend: a signed bounce is stored once and suppresses the address for its tenant only",
            bounce_stored_once,
        ),
        Trial::test(
            "resend: a delivery signed with the previous secret (rotation) is accepted",
            previous_secret_accepted,
        ),
        Trial::test(
            "resend: unsigned, tampered, stale and wrongly keyed deliveries are 401 and store nothing",
            refused_deliveries,
        ),
        Trial::test(
            "resend: a delivery without a workspace tag is stored under no tenant, suppressing nothing",
            untagged_delivery,
        ),
    ]
}

/// The local secrets: current first, then the previous one (ci/local.env).
fn secrets() -> Vec<&'static str> {
    var("STANDARD_WEBHOOKS_SECRETS").split(',').collect()
}

/// A Resend `email.bounced` event for `to`, tagged with `workspace` when given, and a fresh
/// Svix message id.
fn bounce(to: &str, workspace: Option<&str>) -> (String, String) {
    let id = format!("msg_e2e{}", unique_suffix());
    let tags = workspace.map_or(
        json!({ "category": "welcome" }),
        |w| json!({ "category": "welcome", "workspace_id": w }),
    );
    let body = json!({
        "type": "email.bounced",
        "created_at": "2026-12-01T09:00:00.000Z",
        "data": {
            "created_at": "2026-12-01T08:59:58.000Z",
            "email_id": format!("e2e-email-{id}"),
            "from": "Acme <hello@acme.test>",
            "to": [to],
            "subject": "Welcome",
            "bounce": { "type": "Permanent", "subType": "General", "message": "mailbox does not exist" },
            "tags": tags,
        }
    });
    (id, body.to_string())
}

fn deliver(headers: &Headers, body: &str) -> Reply {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(&functions_url("resend-webhook"), &headers, body.as_bytes())
}

fn stored(id: &str) -> (i64, i32, Option<String>) {
    let row = superuser()
        .query_opt(
            "select count(*) over (), attempts, workspace_id::text from public.webhook_events \
             where provider = 'standard_webhooks' and event_id = $1",
            &[&id],
        )
        .unwrap();
    row.map_or((0, 0, None), |r| (r.get(0), r.get(1), r.get(2)))
}

fn suppressions(address: &str) -> Vec<(String, String)> {
    superuser()
        .query(
            "select workspace_id::text, reason from public.email_suppressions where address = $1",
            &[&address],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn expect(reply: &Reply, status: u16, what: &str) -> TestResult {
    if reply.status != status {
        return Err(format!(
            "{what}: expected {status}, got {}: {}",
            reply.status, reply.body
        )
        .into());
    }
    Ok(())
}

fn bounce_stored_once() -> TestResult {
    let address = format!("bounced-{}@customer.test", unique_suffix());
    let (id, body) = bounce(&address, Some(TENANT_A));
    let first = deliver(
        &standard_webhooks_headers(secrets()[0], &id, unix_now(), body.as_bytes()),
        &body,
    );
    expect(&first, 200, "first delivery")?;
    if first.json() != json!({ "stored": true, "duplicate": false, "suppressed": 1 }) {
        return Err(format!("first delivery: {}", first.body).into());
    }
    // Svix's retry: the same message id and body, a fresh timestamp and signature.
    let retry = deliver(
        &standard_webhooks_headers(secrets()[0], &id, unix_now(), body.as_bytes()),
        &body,
    );
    expect(&retry, 200, "retry")?;
    if retry.json() != json!({ "stored": false, "duplicate": true, "suppressed": 0 }) {
        return Err(format!("retry: {}", retry.body).into());
    }
    let (rows, attempts, workspace) = stored(&id);
    if (rows, attempts, workspace.as_deref()) != (1, 2, Some(TENANT_A)) {
        return Err(format!(
            "expected one row, 2 attempts, filed under tenant A; got {rows}, {attempts}, {workspace:?}"
        )
        .into());
    }
    let found = suppressions(&address);
    if found != [(TENANT_A.to_owned(), "bounced".to_owned())] {
        return Err(format!("expected one suppression for tenant A: {found:?}").into());
    }
    // Tenant B's member reads none of tenant A's suppressions (RLS), tenant A's member does.
    let visible = |user: &str| -> i64 {
        let mut db = superuser();
        let mut tx = db.transaction().unwrap();
        tx.batch_execute("set local role authenticated").unwrap();
        tx.execute(
            "select set_config('request.jwt.claims', $1, true)",
            &[&json!({ "sub": user, "role": "authenticated" }).to_string()],
        )
        .unwrap();
        tx.query_one(
            "select count(*) from public.email_suppressions where address = $1",
            &[&address],
        )
        .unwrap()
        .get(0)
    };
    if (visible(USER_A), visible(USER_B)) != (1, 0) {
        return Err("tenant A's member sees the suppression, tenant B's does not".into());
    }
    Ok(())
}

fn previous_secret_accepted() -> TestResult {
    let (id, body) = bounce("rotated@customer.test", Some(TENANT_A));
    let previous = *secrets().last().unwrap();
    let reply = deliver(
        &standard_webhooks_headers(previous, &id, unix_now(), body.as_bytes()),
        &body,
    );
    expect(&reply, 200, "signed with the previous secret")?;
    if stored(&id).0 != 1 {
        return Err("the delivery is stored".into());
    }
    Ok(())
}

fn refused_deliveries() -> TestResult {
    let address = format!("refused-{}@customer.test", unique_suffix());
    let (id, body) = bounce(&address, Some(TENANT_A));
    let now = unix_now();
    let signed = standard_webhooks_headers(secrets()[0], &id, now, body.as_bytes());
    let tampered = body.replace(&address, "someone-else@customer.test");
    let stale = standard_webhooks_headers(secrets()[0], &id, now - 600, body.as_bytes());
    let foreign_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let cases: [(&str, Headers, &str, &str); 4] = [
        (
            "unsigned",
            Headers::new(),
            body.as_str(),
            "missing_signature",
        ),
        (
            "tampered",
            signed.clone(),
            tampered.as_str(),
            "invalid_signature",
        ),
        ("stale", stale, body.as_str(), "stale_signature"),
        (
            "another endpoint's secret",
            standard_webhooks_headers(foreign_secret, &id, now, body.as_bytes()),
            body.as_str(),
            "invalid_signature",
        ),
    ];
    for (what, headers, sent, code) in cases {
        let reply = deliver(&headers, sent);
        expect(&reply, 401, what)?;
        if reply.error_code() != code {
            return Err(format!("{what}: expected {code}: {}", reply.body).into());
        }
    }
    if stored(&id).0 != 0 || !suppressions(&address).is_empty() {
        return Err("a refused delivery stored something".into());
    }
    Ok(())
}

fn untagged_delivery() -> TestResult {
    let address = format!("untagged-{}@customer.test", unique_suffix());
    let (id, body) = bounce(&address, None);
    let reply = deliver(
        &standard_webhooks_headers(secrets()[0], &id, unix_now(), body.as_bytes()),
        &body,
    );
    expect(&reply, 200, "untagged delivery")?;
    let (rows, _, workspace) = stored(&id);
    if rows != 1 || workspace.is_some() || !suppressions(&address).is_empty() {
        return Err(
            format!("stored under no tenant, nothing suppressed: {rows} {workspace:?}").into(),
        );
    }
    Ok(())
}
