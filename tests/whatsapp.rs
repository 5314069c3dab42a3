//! WhatsApp through the queue end to end: Meta's webhook stores an inbound message and hands it
//! to the `whatsapp-inbound` queue (wrangler runs it locally); the consumer claims each `wamid`
//! once in Postgres, only for a number a workspace proved it owns, whatever Meta redelivers (the
//! same body, or the same message in a new batch).

use std::time::{Duration, Instant};

use libtest_mimic::Trial;
use serde_json::json;

use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "whatsapp: an inbound message is stored, queued and answered exactly once from the workspace's team notes, also when Meta redelivers it (same body, new batch); an unproven number is never answered",
        inbound_message_claimed_once,
    )]
}

/// A WhatsApp `messages` delivery as Meta writes it: one change per `(phone number id, wamid,
/// text)`, in that order.
fn inbound_delivery(messages: &[(&str, &str, &str)]) -> String {
    let changes: Vec<_> = messages
        .iter()
        .map(|(phone, wamid, text)| {
            json!({ "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550100", "phone_number_id": phone },
                "contacts": [{ "profile": { "name": "Cliente" }, "wa_id": "5491155550000" }],
                "messages": [{ "from": "5491155550000", "id": wamid,
                               "timestamp": unix_now().to_string(), "type": "text",
                               "text": { "body": text } }],
            }})
        })
        .collect();
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": changes }]
    })
    .to_string()
}

fn deliver(body: &str) -> Reply {
    let secret = var("META_APP_SECRETS").split(',').next().unwrap();
    post(
        &functions_url("meta-webhook"),
        &[(
            "x-hub-signature-256",
            &meta_signature(secret, body.as_bytes()),
        )],
        body.as_bytes(),
    )
}

/// (status, attempts, last_error) of `wamid`'s reply row, once the consumer wrote it.
fn reply_row(wamid: &str) -> Option<(String, i32, Option<String>)> {
    superuser()
        .query_opt(
            "select status, attempts, last_error from public.whatsapp_replies where wamid = $1",
            &[&wamid],
        )
        .unwrap()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
}

/// Waits (bounded) until the consumer answered `wamid`, or tried `attempts` times and recorded
/// why it could not.
fn claimed(wamid: &str, attempts: i32) -> Option<(String, i32, Option<String>)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match reply_row(wamid) {
            Some(row) if row.1 >= attempts && row.2.is_some() => return Some(row),
            Some(row) if row.0 == "sent" => return Some(row),
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    }
    reply_row(wamid)
}

/// Waits (bounded) until `wamid` is marked sent; its row as it then stands.
fn answered(wamid: &str) -> Option<(String, i32, Option<String>)> {
    claimed(wamid, i32::MAX)
}

/// The replies the Graph API stand-in accepted for inbound message `wamid`.
fn replies_to(wamid: &str) -> Vec<serde_json::Value> {
    let sent = get(&format!("{}/__stand-in/messages", stand_in_url(10)), &[]).json();
    sent.as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["context"]["message_id"] == wamid)
        .cloned()
        .collect()
}

fn inbound_message_claimed_once() -> TestResult {
    stand_in_fault(10, "ok", 0);
    check!(
        breaker_settled("meta-graph"),
        "the Graph API breaker stayed open"
    );
    // Its own owner: the notes written here stay out of the demo users' reads.
    let owner = TestUser::fresh("whatsapp");
    let workspace = create_workspace(&owner, "e2e whatsapp");
    let (token, waba, phones) = graph_business(2);
    let (connected, _) = connect_channel(&owner.id, &workspace, &waba, &phones[0], &token);
    check!(
        connected.status == 201,
        "{} {}",
        connected.status,
        connected.body
    );
    // What the answer may quote: the workspace's team notes, never a member's private one.
    let team_note = format!("Turnos mañana de 9 a 13 ({})", unique_digits());
    create_note(&owner.id, &workspace, &team_note, "team");
    create_note(
        &owner.id,
        &workspace,
        "Turnos privados: solo para mí",
        "private",
    );
    let wamid = format!("wamid.e2e{}", unique_digits());

    // Stored, answered 200 at once, queued.
    let body = inbound_delivery(&[(&phones[0], &wamid, "¿Tienen turnos mañana?")]);
    let first = deliver(&body);
    check!(
        first.status == 200 && first.json()["stored"] == true,
        "{} {}",
        first.status,
        first.body
    );
    let row = answered(&wamid).ok_or("the consumer never claimed the message")?;

    // Meta redelivers the same body (a stored duplicate), then the same message in a new batch.
    let again = deliver(&body);
    check!(
        again.status == 200 && again.json()["duplicate"] == true,
        "{}",
        again.body
    );
    let other = format!("wamid.e2e{}", unique_digits());
    let batch = inbound_delivery(&[
        (&phones[0], &wamid, "¿Tienen turnos mañana?"),
        (&phones[0], &other, "Gracias"),
    ]);
    let second = deliver(&batch);
    check!(
        second.status == 200 && second.json()["stored"] == true,
        "{}",
        second.body
    );
    check!(
        claimed(&other, 1).is_some(),
        "the new message in the batch is claimed"
    );
    let rows: i64 = superuser()
        .query_one(
            "select count(*) from public.whatsapp_replies where wamid = $1",
            &[&wamid],
        )
        .unwrap()
        .get(0);
    check!(rows == 1, "one claim row per wamid: {rows}");

    // However often it arrived, exactly one reply went out for it, as a reply to it, answered
    // from the team note the question matches and nothing private.
    check!(row.0 == "sent", "the message was answered: {row:?}");
    let replies = replies_to(&wamid);
    check!(replies.len() == 1, "one reply: {replies:?}");
    let text = replies[0]["body"].as_str().unwrap_or_default();
    check!(
        text.contains(&team_note) && !text.contains("privados"),
        "the reply quotes the team note only: {text}"
    );

    // A number no workspace proved it owns is never claimed or answered: its message goes into
    // the queue first, in the same batch as one for the proven number; once that one is claimed
    // the consumer has been through the stranger's too.
    let stranger = format!("wamid.e2e{}", unique_digits());
    let after = format!("wamid.e2e{}", unique_digits());
    let mixed = deliver(&inbound_delivery(&[
        (&phones[1], &stranger, "hola"),
        (&phones[0], &after, "hola"),
    ]));
    check!(mixed.status == 200, "{}", mixed.body);
    check!(
        claimed(&after, 1).is_some(),
        "the proven number's message is claimed"
    );
    check!(
        reply_row(&stranger).is_none(),
        "an unproven number is not claimed"
    );
    Ok(())
}
