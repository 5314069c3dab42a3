//! API keys end to end: management on `/functions/v1/api-keys` (owners and admins at aal2, the
//! key shown once) and the key as a caller of `/functions/v1/api-v1` (its workspace and scopes
//! only; revocation and expiry act at once; bad keys are 401 JSON).

use libtest_mimic::Trial;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "api-keys: an owner at aal2 mints a key shown once; the list never shows key or hash",
            create_and_list,
        ),
        Trial::test(
            "api-keys: aal1 is 403, a member 403, another tenant 404, bad input 400",
            management_refusals,
        ),
        Trial::test(
            "api-v1: a key reads and creates notes of its own workspace only (others 404)",
            key_reads_and_writes_its_workspace,
        ),
        Trial::test(
            "api-v1: a key without the route's scope is 403 insufficient_scope",
            missing_scope,
        ),
        Trial::test(
            "api-v1: a revoked key is 401 at once, and revocation is final",
            revoked_key,
        ),
        Trial::test("api-v1: an expired key is 401 expired_api_key", expired_key),
        Trial::test(
            "api-v1: missing, malformed, unknown and forged keys are 401 JSON; bad input 400",
            bad_keys,
        ),
        Trial::test(
            "api-v1: last_used_at is written once within a minute, not on every request",
            last_used_once_a_minute,
        ),
    ]
}

fn key_of(minted: &Value) -> String {
    minted["key"].as_str().expect("the key").to_owned()
}

fn create_and_list() -> TestResult {
    let minted = create_api_key(USER_A, TENANT_A, &["notes:read", "notes:write"]);
    let key = key_of(&minted);
    let parts: Vec<&str> = key.split('_').collect();
    check!(
        parts.len() == 3 && parts[0] == "rlse" && parts[1].len() == 12 && parts[2].len() == 64,
        "rlse_<12 hex>_<64 hex>: {key}"
    );
    check!(minted["prefix"] == parts[1], "{minted}");
    check!(
        minted["scopes"] == json!(["notes:read", "notes:write"]),
        "{minted}"
    );
    let (hash, prefix): (Vec<u8>, String) = {
        let row = superuser()
            .query_one(
                "select key_hash, prefix from public.api_keys where id = $1::text::uuid",
                &[&id_of(&minted)],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    check!(
        hash == Sha256::digest(key.as_bytes()).to_vec(),
        "sha256 of the key at rest"
    );
    check!(prefix == parts[1], "the prefix at rest");
    let list = get(
        &functions_url(&format!("api-keys?workspace={TENANT_A}")),
        &as_headers(&aal2_headers(USER_A)),
    );
    check!(list.status == 200, "{} {}", list.status, list.body);
    let listed = list.json();
    let entry = listed
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["id"] == minted["id"]))
        .ok_or("the new key is listed")?;
    for field in [
        "prefix",
        "name",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
    ] {
        check!(entry.get(field).is_some(), "{field} listed: {entry}");
    }
    check!(
        !list.body.contains(&key)
            && !list.body.contains(parts[2])
            && !list.body.contains(&hex::encode(&hash)),
        "neither key nor hash listed: {}",
        list.body
    );
    check!(
        entry.get("key").is_none() && entry.get("key_hash").is_none(),
        "{entry}"
    );
    Ok(())
}

fn management_refusals() -> TestResult {
    let body = json!({ "name": "k", "scopes": ["notes:read"] });
    let aal1 = post(
        &functions_url(&format!("api-keys?workspace={TENANT_A}")),
        &as_headers(&signed_in(USER_A)),
        body.to_string().as_bytes(),
    );
    expect_error(&aal1, 403, "insufficient_aal")?;
    let aal1_list = get(
        &functions_url(&format!("api-keys?workspace={TENANT_A}")),
        &as_headers(&signed_in(USER_A)),
    );
    expect_error(&aal1_list, 403, "insufficient_aal")?;
    join_workspace(TENANT_A, MEMBER_A, "member");
    expect_error(
        &create_api_key_reply(MEMBER_A, TENANT_A, &body),
        403,
        "forbidden",
    )?;
    let member_list = get(
        &functions_url(&format!("api-keys?workspace={TENANT_A}")),
        &as_headers(&aal2_headers(MEMBER_A)),
    );
    expect_error(&member_list, 403, "forbidden")?;
    // Another tenant's owner: tenant A's workspace does not exist for them.
    expect_error(
        &create_api_key_reply(USER_B, TENANT_A, &body),
        404,
        "workspace_not_found",
    )?;
    let outsider_list = get(
        &functions_url(&format!("api-keys?workspace={TENANT_A}")),
        &as_headers(&aal2_headers(USER_B)),
    );
    expect_error(&outsider_list, 404, "not_found")?;
    // Another tenant's owner cannot revoke tenant A's key; a member cannot either.
    let minted = create_api_key(USER_A, TENANT_A, &["notes:read"]);
    let revoke_url = functions_url(&format!("api-keys/revoke?id={}", id_of(&minted)));
    expect_error(
        &post(&revoke_url, &as_headers(&aal2_headers(USER_B)), b""),
        404,
        "not_found",
    )?;
    expect_error(
        &post(&revoke_url, &as_headers(&aal2_headers(MEMBER_A)), b""),
        404,
        "not_found",
    )?;
    let still = with_api_key("GET", "api-v1/notes", &key_of(&minted), None);
    check!(
        still.status == 200,
        "the key still works: {} {}",
        still.status,
        still.body
    );
    // Bad input names its field.
    for (bad, field) in [
        (json!({ "name": "", "scopes": ["notes:read"] }), "name"),
        (
            json!({ "name": "k", "scopes": ["billing:write"] }),
            "scopes[0]",
        ),
        (
            json!({ "name": "k", "scopes": ["notes:read"], "expires_in_days": 0 }),
            "expires_in_days",
        ),
        (
            json!({ "name": "k", "scopes": ["notes:read"], "owner": USER_B }),
            "owner",
        ),
    ] {
        let reply = create_api_key_reply(USER_A, TENANT_A, &bad);
        check!(
            reply.status == 400,
            "{bad}: {} {}",
            reply.status,
            reply.body
        );
        check!(
            reply.json()["error"]["field"] == field,
            "{bad}: {}",
            reply.body
        );
    }
    Ok(())
}

fn key_reads_and_writes_its_workspace() -> TestResult {
    let key = key_of(&create_api_key(
        USER_A,
        TENANT_A,
        &["notes:read", "notes:write"],
    ));
    let team = create_note(
        USER_A,
        TENANT_A,
        &format!("team {}", unique_suffix()),
        "team",
    );
    let private = create_note(
        USER_A,
        TENANT_A,
        &format!("private {}", unique_suffix()),
        "private",
    );
    let other = create_note(
        USER_B,
        TENANT_B,
        &format!("tenant b {}", unique_suffix()),
        "team",
    );

    let list = with_api_key("GET", "api-v1/notes", &key, None);
    check!(list.status == 200, "{} {}", list.status, list.body);
    let listed = list.json();
    let ids: Vec<&Value> = listed
        .as_array()
        .ok_or("an array")?
        .iter()
        .map(|n| &n["id"])
        .collect();
    check!(
        ids.contains(&&team["id"]),
        "the team note is listed: {}",
        list.body
    );
    check!(
        !ids.contains(&&private["id"]),
        "never a private note: {}",
        list.body
    );
    check!(
        !ids.contains(&&other["id"]),
        "never another tenant's: {}",
        list.body
    );
    check!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["workspace_id"] == TENANT_A),
        "tenant A only: {}",
        list.body
    );
    let one = with_api_key(
        "GET",
        &format!("api-v1/note?id={}", id_of(&team)),
        &key,
        None,
    );
    check!(
        one.status == 200 && one.json()["id"] == team["id"],
        "{}",
        one.body
    );
    for hidden in [&other, &private] {
        let reply = with_api_key(
            "GET",
            &format!("api-v1/note?id={}", id_of(hidden)),
            &key,
            None,
        );
        expect_error(&reply, 404, "not_found")?;
    }

    let body = format!("from a key {}", unique_suffix());
    let created = with_api_key("POST", "api-v1/notes", &key, Some(&json!({ "body": body })));
    check!(created.status == 201, "{} {}", created.status, created.body);
    let note = created.json();
    check!(
        note["workspace_id"] == TENANT_A && note["body"] == body.as_str(),
        "{note}"
    );
    let row = superuser()
        .query_one(
            "select workspace_id::text, author_id::text, visibility from public.notes where id = $1::text::uuid",
            &[&id_of(&note)],
        )
        .unwrap();
    let (workspace, author, visibility): (String, String, String) =
        (row.get(0), row.get(1), row.get(2));
    check!(
        workspace == TENANT_A && author == USER_A && visibility == "team",
        "{workspace} {author} {visibility}"
    );
    let explicit = with_api_key(
        "POST",
        "api-v1/notes",
        &key,
        Some(&json!({ "body": "same workspace, named", "workspace_id": TENANT_A })),
    );
    check!(
        explicit.status == 201,
        "{} {}",
        explicit.status,
        explicit.body
    );
    let elsewhere = with_api_key(
        "POST",
        "api-v1/notes",
        &key,
        Some(&json!({ "body": "into tenant B", "workspace_id": TENANT_B })),
    );
    expect_error(&elsewhere, 404, "workspace_not_found")?;
    let written_elsewhere: i64 = superuser()
        .query_one(
            "select count(*) from public.notes where body = 'into tenant B'",
            &[],
        )
        .unwrap()
        .get(0);
    check!(written_elsewhere == 0, "nothing written in tenant B");
    // Tenant B's key sees none of tenant A's notes.
    let key_b = key_of(&create_api_key(USER_B, TENANT_B, &["notes:read"]));
    let b = with_api_key(
        "GET",
        &format!("api-v1/note?id={}", id_of(&team)),
        &key_b,
        None,
    );
    expect_error(&b, 404, "not_found")
}

fn missing_scope() -> TestResult {
    let read_only = key_of(&create_api_key(USER_A, TENANT_A, &["notes:read"]));
    let write_only = key_of(&create_api_key(USER_A, TENANT_A, &["notes:write"]));
    let webhooks_only = key_of(&create_api_key(USER_A, TENANT_A, &["webhooks:read"]));
    let note = json!({ "body": "scoped" });
    expect_error(
        &with_api_key("POST", "api-v1/notes", &read_only, Some(&note)),
        403,
        "insufficient_scope",
    )?;
    expect_error(
        &with_api_key("GET", "api-v1/notes", &write_only, None),
        403,
        "insufficient_scope",
    )?;
    expect_error(
        &with_api_key("GET", "api-v1/notes", &webhooks_only, None),
        403,
        "insufficient_scope",
    )?;
    let created = with_api_key("POST", "api-v1/notes", &write_only, Some(&note));
    check!(
        created.status == 201,
        "write alone creates: {} {}",
        created.status,
        created.body
    );
    Ok(())
}

fn revoked_key() -> TestResult {
    let minted = create_api_key(USER_A, TENANT_A, &["notes:read"]);
    let key = key_of(&minted);
    let before = with_api_key("GET", "api-v1/notes", &key, None);
    check!(before.status == 200, "{} {}", before.status, before.body);
    let revoke_url = functions_url(&format!("api-keys/revoke?id={}", id_of(&minted)));
    let aal1 = post(&revoke_url, &as_headers(&signed_in(USER_A)), b"");
    expect_error(&aal1, 403, "insufficient_aal")?;
    let revoked = post(&revoke_url, &as_headers(&aal2_headers(USER_A)), b"");
    check!(revoked.status == 200, "{} {}", revoked.status, revoked.body);
    check!(revoked.json()["revoked_at"].is_string(), "{}", revoked.body);
    expect_error(
        &with_api_key("GET", "api-v1/notes", &key, None),
        401,
        "revoked_api_key",
    )?;
    // Final: even the table owner cannot clear revoked_at.
    let undo = superuser().execute(
        "update public.api_keys set revoked_at = null where id = $1::text::uuid",
        &[&id_of(&minted)],
    );
    check!(undo.is_err(), "un-revoking is refused");
    expect_error(
        &with_api_key("GET", "api-v1/notes", &key, None),
        401,
        "revoked_api_key",
    )
}

fn expired_key() -> TestResult {
    let minted = create_api_key(USER_A, TENANT_A, &["notes:read"]);
    let key = key_of(&minted);
    let before = with_api_key("GET", "api-v1/notes", &key, None);
    check!(before.status == 200, "{} {}", before.status, before.body);
    // The clock moves: the key's expiry is put in the past.
    superuser()
        .execute(
            "update public.api_keys set expires_at = now() - interval '1 second' where id = $1::text::uuid",
            &[&id_of(&minted)],
        )
        .unwrap();
    expect_error(
        &with_api_key("GET", "api-v1/notes", &key, None),
        401,
        "expired_api_key",
    )
}

fn bad_keys() -> TestResult {
    expect_error(
        &get(&functions_url("api-v1/notes"), &[]),
        401,
        "missing_credentials",
    )?;
    let long = "rlse_".to_owned() + &"a".repeat(5000);
    for malformed in [
        "rlse_xyz",
        "Bearer rlse_0123",
        "rlse_0123456789AB_00",
        long.as_str(),
        "rlse__",
    ] {
        let reply = with_api_key("GET", "api-v1/notes", malformed, None);
        expect_error(&reply, 401, "malformed_api_key")?;
        check!(
            reply.content_type.starts_with("application/json"),
            "{}",
            reply.content_type
        );
    }
    let unknown = format!("rlse_{}_{}", "0".repeat(12), "0".repeat(64));
    expect_error(
        &with_api_key("GET", "api-v1/notes", &unknown, None),
        401,
        "invalid_api_key",
    )?;
    // The right prefix with another secret.
    let key = key_of(&create_api_key(
        USER_A,
        TENANT_A,
        &["notes:read", "notes:write"],
    ));
    let last = if key.ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &key[..key.len() - 1]);
    expect_error(
        &with_api_key("GET", "api-v1/notes", &forged, None),
        401,
        "invalid_api_key",
    )?;
    // A user's token is no key.
    let token_only = get(
        &functions_url("api-v1/notes"),
        &as_headers(&signed_in(USER_A)),
    );
    expect_error(&token_only, 401, "missing_credentials")?;
    // With a valid key, bad input is still 400.
    expect_error(
        &with_api_key("GET", "api-v1/note?id=nope", &key, None),
        400,
        "invalid_query",
    )?;
    expect_error(
        &with_api_key("GET", "api-v1/note", &key, None),
        400,
        "missing_query",
    )?;
    let empty = with_api_key("POST", "api-v1/notes", &key, Some(&json!({ "body": "" })));
    expect_error(&empty, 400, "invalid_field")?;
    let bad_workspace = with_api_key(
        "POST",
        "api-v1/notes",
        &key,
        Some(&json!({ "body": "x", "workspace_id": "not-a-uuid" })),
    );
    expect_error(&bad_workspace, 400, "invalid_field")?;
    Ok(())
}

fn last_used_once_a_minute() -> TestResult {
    let minted = create_api_key(USER_A, TENANT_A, &["notes:read"]);
    let key = key_of(&minted);
    check!(minted["last_used_at"].is_null(), "never used yet: {minted}");
    let last_used = || -> Option<String> {
        superuser()
            .query_one(
                "select last_used_at::text from public.api_keys where id = $1::text::uuid",
                &[&id_of(&minted)],
            )
            .unwrap()
            .get(0)
    };
    let audited = || -> i64 {
        superuser()
            .query_one(
                "select count(*) from public.audit_log where target_table = 'api_keys' and target_id = $1",
                &[&id_of(&minted)],
            )
            .unwrap()
            .get(0)
    };
    let audit_before = audited();
    let first = with_api_key("GET", "api-v1/notes", &key, None);
    check!(first.status == 200, "{} {}", first.status, first.body);
    let stamped = last_used().ok_or("last_used_at set by the first call")?;
    for _ in 0..3 {
        let again = with_api_key("GET", "api-v1/notes", &key, None);
        check!(again.status == 200, "{} {}", again.status, again.body);
    }
    check!(
        last_used().as_deref() == Some(stamped.as_str()),
        "unchanged within the minute"
    );
    // A minute later (moved as the superuser), the next call stamps it again.
    superuser()
        .execute(
            "update public.api_keys set last_used_at = now() - interval '61 seconds' where id = $1::text::uuid",
            &[&id_of(&minted)],
        )
        .unwrap();
    let moved = last_used().ok_or("moved")?;
    let later = with_api_key("GET", "api-v1/notes", &key, None);
    check!(later.status == 200, "{} {}", later.status, later.body);
    let restamped = last_used().ok_or("still set")?;
    check!(
        restamped != moved,
        "stamped again after a minute: {moved} → {restamped}"
    );
    check!(
        audited() == audit_before,
        "last use is not an audited change"
    );
    Ok(())
}
