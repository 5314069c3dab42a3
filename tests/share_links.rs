//! `/functions/v1/share-links`: create (owner/admin, token shown once, hash at rest), list,
//! revoke for good, and the anonymous read by token.

use libtest_mimic::Trial;
use serde_json::json;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "share-links: an owner shares a note; anyone with the token reads just that note",
            share_and_read,
        ),
        Trial::test(
            "share-links: a member creating or listing links is 403, another tenant 404",
            wrong_callers,
        ),
        Trial::test(
            "share-links: create refuses bad input with 400 naming the field",
            create_bad_input,
        ),
        Trial::test(
            "share-links: a revoked link reads 404 and stays revoked (un-revoke refused)",
            revoke_is_final,
        ),
        Trial::test(
            "share-links: no, wrong or expired tokens read 404; a signed-in call reads nothing more",
            bad_tokens,
        ),
    ]
}

fn link_row(id: &str) -> (Vec<u8>, Option<String>) {
    let row = superuser()
        .query_one(
            "select token_hash, revoked_at::text from public.share_links where id = $1::text::uuid",
            &[&id],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

fn share_and_read() -> TestResult {
    let note = create_note(
        USER_A,
        TENANT_A,
        &format!("shared {}", unique_suffix()),
        "team",
    );
    let link = create_share_link(USER_A, &id_of(&note));
    let token = link["token"].as_str().ok_or("a token")?;
    check!(link["note_id"] == note["id"], "{link}");
    check!(token.len() == 64, "a 64-hex-digit token: {link}");
    let (hash, revoked) = link_row(&id_of(&link));
    check!(revoked.is_none(), "live");
    check!(
        hex::encode(&hash) != token && !hash.is_empty(),
        "only a hash at rest"
    );
    let read = read_shared_note(token);
    check!(read.status == 200, "{} {}", read.status, read.body);
    check!(
        read.json() == note,
        "exactly the shared note: {}",
        read.body
    );
    // An admin may share too, and choose the expiry.
    join_workspace(TENANT_A, ADMIN_A, "admin");
    let reply = create_share_link_reply(
        ADMIN_A,
        &json!({ "note_id": id_of(&note), "expires_in_days": 1 }),
    );
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    // The list shows both links, never a token or a hash.
    let list = get(
        &functions_url(&format!("share-links?workspace={TENANT_A}")),
        &as_headers(&signed_in(USER_A)),
    );
    check!(list.status == 200, "{} {}", list.status, list.body);
    check!(list.body.contains(&id_of(&link)), "listed: {}", list.body);
    check!(
        !list.body.contains(token) && !list.body.contains("token"),
        "no token in the list: {}",
        list.body
    );
    Ok(())
}

fn wrong_callers() -> TestResult {
    join_workspace(TENANT_A, MEMBER_A, "member");
    let note = create_note(
        MEMBER_A,
        TENANT_A,
        &format!("member's {}", unique_suffix()),
        "team",
    );
    let by_member = create_share_link_reply(MEMBER_A, &json!({ "note_id": id_of(&note) }));
    expect_error(&by_member, 403, "forbidden")?;
    let by_other_tenant = create_share_link_reply(USER_B, &json!({ "note_id": id_of(&note) }));
    expect_error(&by_other_tenant, 404, "not_found")?;
    let list_url = functions_url(&format!("share-links?workspace={TENANT_A}"));
    expect_error(
        &get(&list_url, &as_headers(&signed_in(MEMBER_A))),
        403,
        "forbidden",
    )?;
    expect_error(
        &get(&list_url, &as_headers(&signed_in(USER_B))),
        404,
        "not_found",
    )?;
    // The owner's link, revoked by another tenant or a member: hidden from both.
    let link = create_share_link(USER_A, &id_of(&note));
    expect_error(&revoke_share_link(USER_B, &id_of(&link)), 404, "not_found")?;
    expect_error(
        &revoke_share_link(MEMBER_A, &id_of(&link)),
        404,
        "not_found",
    )?;
    check!(link_row(&id_of(&link)).1.is_none(), "still live");
    Ok(())
}

fn create_bad_input() -> TestResult {
    let note = create_note(USER_A, TENANT_A, "bad link input", "team");
    for (body, code, field) in [
        (json!({}), "missing_field", "note_id"),
        (json!({ "note_id": "x" }), "invalid_field", "note_id"),
        (
            json!({ "note_id": id_of(&note), "expires_in_days": 0 }),
            "invalid_field",
            "expires_in_days",
        ),
        (
            json!({ "note_id": id_of(&note), "expires_in_days": 366 }),
            "invalid_field",
            "expires_in_days",
        ),
        (
            json!({ "note_id": id_of(&note), "token": "mine" }),
            "unknown_field",
            "token",
        ),
    ] {
        let reply = create_share_link_reply(USER_A, &body);
        expect_error(&reply, 400, code)?;
        check!(reply.json()["error"]["field"] == field, "{}", reply.body);
    }
    Ok(())
}

fn revoke_is_final() -> TestResult {
    let note = create_note(USER_A, TENANT_A, "revoked link", "team");
    let link = create_share_link(USER_A, &id_of(&note));
    let token = link["token"].as_str().ok_or("a token")?;
    check!(read_shared_note(token).status == 200, "readable while live");
    let revoked = revoke_share_link(USER_A, &id_of(&link));
    check!(revoked.status == 200, "{} {}", revoked.status, revoked.body);
    check!(!revoked.json()["revoked_at"].is_null(), "{}", revoked.body);
    expect_error(&read_shared_note(token), 404, "not_found")?;
    // Revoking again is a no-op; the time stays the first revocation's.
    let again = revoke_share_link(USER_A, &id_of(&link));
    check!(
        again.status == 200 && again.json()["revoked_at"] == revoked.json()["revoked_at"],
        "{}",
        again.body
    );
    // The attack: the owner (who holds the UPDATE grant on revoked_at) clears it, as PostgREST
    // would run `PATCH /rest/v1/share_links?id=eq.… {"revoked_at":null}`.
    let mut db = superuser();
    let mut tx = db.transaction().unwrap();
    tx.batch_execute(&format!(
        "select set_config('request.jwt.claims', '{{\"sub\":\"{USER_A}\",\"role\":\"authenticated\"}}', true);
         set local role authenticated;"
    ))
    .unwrap();
    let unrevoke = tx.execute(
        "update public.share_links set revoked_at = null where id = $1::text::uuid",
        &[&id_of(&link)],
    );
    let code = unrevoke
        .err()
        .and_then(|e| e.code().map(|c| c.code().to_owned()));
    check!(
        code.as_deref() == Some("42501"),
        "un-revoking is refused: {code:?}"
    );
    drop(tx);
    expect_error(&read_shared_note(token), 404, "not_found")
}

fn bad_tokens() -> TestResult {
    expect_error(
        &get(&functions_url("share-links/note"), &[]),
        404,
        "not_found",
    )?;
    expect_error(&read_shared_note(&"0".repeat(64)), 404, "not_found")?;
    let note = create_note(USER_A, TENANT_A, "expired link", "team");
    let link = create_share_link(USER_A, &id_of(&note));
    superuser()
        .execute(
            "update public.share_links set created_at = now() - interval '2 days',
                    expires_at = now() - interval '1 day' where id = $1::text::uuid",
            &[&id_of(&link)],
        )
        .unwrap();
    expect_error(
        &read_shared_note(link["token"].as_str().unwrap()),
        404,
        "not_found",
    )?;
    // A trashed note's live link opens nothing.
    let trashed = create_note(USER_A, TENANT_A, "trashed shared", "team");
    let live = create_share_link(USER_A, &id_of(&trashed));
    post(
        &functions_url(&format!("notes/trash?id={}", id_of(&trashed))),
        &as_headers(&signed_in(USER_A)),
        b"",
    );
    expect_error(
        &read_shared_note(live["token"].as_str().unwrap()),
        404,
        "not_found",
    )
}
