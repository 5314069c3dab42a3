//! The `channels` function end to end: connecting a WhatsApp number needs Meta's Graph API (the
//! stand-in) to list it for the tenant's own token; nobody can claim another tenant's number,
//! through the function or by writing the table directly; list, disconnect, roles, bad input.

use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "channels: an owner connects a number its WABA lists; members list it; deliveries are filed under it",
            owner_connects_a_proven_number,
        ),
        Trial::test(
            "channels (attack): another tenant's number cannot be claimed through the function",
            attacker_cannot_claim_through_the_function,
        ),
        Trial::test(
            "channels (attack): API roles cannot write messaging_channels directly",
            attacker_cannot_write_the_table,
        ),
        Trial::test(
            "channels: another tenant's workspace is 404, a plain member 403, bad input 400, no token 401",
            refusals,
        ),
        Trial::test(
            "channels: a number taken by another workspace is 409 until its owner disconnects it",
            taken_until_disconnected,
        ),
    ]
}

fn connect(user: &str, workspace: &str, waba: &str, phone: &str, token: &str) -> Reply {
    let body = json!({ "waba_id": waba, "phone_number_id": phone, "access_token": token });
    post(
        &functions_url(&format!("channels?workspace={workspace}")),
        &[
            ("authorization", &bearer(&user_token(user))),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

fn list(user: &str, workspace: &str) -> Result<Vec<Value>, libtest_mimic::Failed> {
    let reply = get(
        &functions_url(&format!("channels?workspace={workspace}")),
        &[("authorization", &bearer(&user_token(user)))],
    );
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    Ok(reply.json().as_array().cloned().unwrap_or_default())
}

fn channel_workspace(phone: &str) -> Option<String> {
    superuser()
        .query_opt(
            "select workspace_id::text from public.messaging_channels where phone_number_id = $1",
            &[&phone],
        )
        .unwrap()
        .map(|row| row.get(0))
}

/// Delivers a signed Meta message for `phone` and returns the workspace it was filed under.
fn filed_under(phone: &str) -> Option<String> {
    let body = meta_delivery("channels", &[phone]);
    let secret = var("META_APP_SECRETS").split(',').next().unwrap();
    let reply = post(
        &functions_url("meta-webhook"),
        &[(
            "x-hub-signature-256",
            &meta_signature(secret, body.as_bytes()),
        )],
        body.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    use sha2::Digest;
    let event_id = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body)));
    superuser()
        .query_one(
            "select workspace_id::text from public.webhook_events where provider = 'meta' and event_id = $1",
            &[&event_id],
        )
        .unwrap()
        .get(0)
}

fn owner_connects_a_proven_number() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e channels");
    superuser()
        .execute(
            "insert into public.memberships (workspace_id, user_id, role) values ($1::text::uuid, $2::text::uuid, 'member')",
            &[&workspace, &USER_B],
        )
        .unwrap();
    let (token, waba, phones) = graph_business(2);
    let reply = connect(USER_A, &workspace, &waba, &phones[1], &token);
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    check!(
        reply.json()["phone_number_id"] == phones[1].as_str()
            && reply.json()["display_phone_number"] == "+1 555-0199",
        "{}",
        reply.body
    );
    let again = connect(USER_A, &workspace, &waba, &phones[1], &token);
    check!(
        again.status == 200,
        "already connected: {} {}",
        again.status,
        again.body
    );
    // A plain member sees it.
    let listed = list(USER_B, &workspace)?;
    check!(
        listed.len() == 1
            && listed[0]["phone_number_id"] == phones[1].as_str()
            && listed[0]["waba_id"] == waba.as_str(),
        "{listed:?}"
    );
    check!(
        filed_under(&phones[1]).as_deref() == Some(workspace.as_str()),
        "the delivery is filed under the workspace that proved the number"
    );
    Ok(())
}

fn attacker_cannot_claim_through_the_function() -> TestResult {
    // The victim's business and its numbers: one connected, one not yet.
    let victim = fresh_workspace(USER_A, "e2e channels victim");
    let (victim_token, victim_waba, victim_phones) = graph_business(2);
    let reply = connect(
        USER_A,
        &victim,
        &victim_waba,
        &victim_phones[0],
        &victim_token,
    );
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    // The attacker owns a workspace and a real business of their own.
    let attacker = fresh_workspace(USER_B, "e2e channels attacker");
    let (attacker_token, attacker_waba, _) = graph_business(1);
    for phone in &victim_phones {
        let attempts = [
            // Their own token naming the victim's account: Meta refuses (not granted).
            (victim_waba.as_str(), attacker_token.as_str()),
            // Their own account: Meta does not list the victim's number there.
            (attacker_waba.as_str(), attacker_token.as_str()),
            // A made-up token.
            (victim_waba.as_str(), "EAAG-guessed-token"),
        ];
        for (waba, token) in attempts {
            let reply = connect(USER_B, &attacker, waba, phone, token);
            expect_error(&reply, 403, "ownership_not_proven")?;
        }
    }
    check!(
        channel_workspace(&victim_phones[0]).as_deref() == Some(victim.as_str()),
        "the connected number stays the victim's"
    );
    check!(
        channel_workspace(&victim_phones[1]).is_none(),
        "the unconnected number was not claimed"
    );
    check!(
        filed_under(&victim_phones[0]).as_deref() == Some(victim.as_str()),
        "the victim's deliveries stay the victim's"
    );
    Ok(())
}

fn attacker_cannot_write_the_table() -> TestResult {
    // As PostgREST would run a signed-in attacker's request: authenticator, then the role and
    // claims. The old schema let an owner insert any number (first come wins).
    let attacker = fresh_workspace(USER_B, "e2e channels direct");
    let victim_phone = unique_digits();
    let url = format!(
        "postgres://authenticator:{}@127.0.0.1:{}/postgres",
        var("LOCAL_AUTHENTICATOR_PASSWORD"),
        var("LOCAL_PG_PORT")
    );
    let mut db = postgres::Client::connect(&url, postgres::NoTls)?;
    let claims = json!({ "sub": USER_B, "role": "authenticated", "aal": "aal2" }).to_string();
    let statements = [
        format!(
            "insert into public.messaging_channels (workspace_id, phone_number_id) values ('{attacker}', '{victim_phone}')"
        ),
        format!("update public.messaging_channels set workspace_id = '{attacker}' where phone_number_id = '200000000000001'"),
        format!(
            "select public.connect_messaging_channel('{attacker}', '1', '{victim_phone}', null)"
        ),
    ];
    for statement in statements {
        let mut tx = db.transaction()?;
        tx.execute(
            "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
            &[&claims],
        )?;
        let error = tx
            .batch_execute(&statement)
            .err()
            .ok_or_else(|| format!("allowed: {statement}"))?;
        check!(
            error.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}: {error}"
        );
        tx.rollback()?;
    }
    check!(
        channel_workspace(&victim_phone).is_none(),
        "nothing was written"
    );
    Ok(())
}

fn refusals() -> TestResult {
    let workspace = fresh_workspace(USER_A, "e2e channels refusals");
    let (token, waba, phones) = graph_business(1);
    // An outsider with a valid proof of their own number, naming someone else's workspace.
    let outsider = connect(USER_B, &workspace, &waba, &phones[0], &token);
    expect_error(&outsider, 404, "workspace_not_found")?;
    check!(
        list(USER_B, &workspace)?.is_empty(),
        "an outsider lists nothing (RLS)"
    );
    superuser().execute(
        "insert into public.memberships (workspace_id, user_id, role) values ($1::text::uuid, $2::text::uuid, 'member')",
        &[&workspace, &USER_B],
    )?;
    let member = connect(USER_B, &workspace, &waba, &phones[0], &token);
    expect_error(&member, 403, "forbidden")?;
    check!(channel_workspace(&phones[0]).is_none(), "nothing connected");
    // The owner connects; the member cannot disconnect; an outsider does not see it.
    let reply = connect(USER_A, &workspace, &waba, &phones[0], &token);
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    let id = list(USER_A, &workspace)?[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let remove = |user: &str| {
        delete(
            &functions_url(&format!("channels?id={id}")),
            &[("authorization", &bearer(&user_token(user)))],
        )
    };
    expect_error(&remove(USER_B), 403, "forbidden")?;
    superuser().execute(
        "delete from public.memberships where workspace_id = $1::text::uuid and user_id = $2::text::uuid",
        &[&workspace, &USER_B],
    )?;
    expect_error(&remove(USER_B), 404, "channel_not_found")?;
    check!(
        channel_workspace(&phones[0]).as_deref() == Some(workspace.as_str()),
        "still connected"
    );
    // Bad input.
    let owner = bearer(&user_token(USER_A));
    let url = functions_url(&format!("channels?workspace={workspace}"));
    for (body, code) in [
        (
            json!({ "waba_id": "12x", "phone_number_id": "1", "access_token": "t" }),
            "invalid_field",
        ),
        (
            json!({ "waba_id": "1", "phone_number_id": "1" }),
            "missing_field",
        ),
        (
            json!({ "waba_id": "1", "phone_number_id": "1", "access_token": "t", "workspace_id": workspace }),
            "unknown_field",
        ),
        (
            json!({ "waba_id": "1", "phone_number_id": "1", "access_token": "" }),
            "invalid_field",
        ),
    ] {
        let reply = post(
            &url,
            &[("authorization", &owner)],
            body.to_string().as_bytes(),
        );
        expect_error(&reply, 400, code)?;
    }
    let no_workspace = post(
        &functions_url("channels"),
        &[("authorization", &owner)],
        b"{}",
    );
    expect_error(&no_workspace, 400, "workspace_required")?;
    expect_error(
        &delete(
            &functions_url("channels?id=nope"),
            &[("authorization", &owner)],
        ),
        400,
        "invalid_query",
    )?;
    expect_error(&get(&url, &[]), 401, "missing_credentials")?;
    expect_error(
        &post(
            &functions_url("channels/x"),
            &[("authorization", &owner)],
            b"{}",
        ),
        404,
        "route_not_found",
    )
}

fn taken_until_disconnected() -> TestResult {
    // One business whose account two workspaces can prove (e.g. two teams of one company).
    let first = fresh_workspace(USER_A, "e2e channels first");
    let second = fresh_workspace(USER_B, "e2e channels second");
    let (token, waba, phones) = graph_business(1);
    let reply = connect(USER_A, &first, &waba, &phones[0], &token);
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    expect_error(
        &connect(USER_B, &second, &waba, &phones[0], &token),
        409,
        "phone_number_taken",
    )?;
    let id = list(USER_A, &first)?[0]["id"].as_str().unwrap().to_owned();
    let removed = delete(
        &functions_url(&format!("channels?id={id}")),
        &[("authorization", &bearer(&user_token(USER_A)))],
    );
    check!(removed.status == 200, "{} {}", removed.status, removed.body);
    let reply = connect(USER_B, &second, &waba, &phones[0], &token);
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    check!(
        channel_workspace(&phones[0]).as_deref() == Some(second.as_str()),
        "now the second workspace's"
    );
    Ok(())
}
