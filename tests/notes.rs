//! `/functions/v1/notes`: each route's happy path, the other tenant, the wrong role, bad input.

use libtest_mimic::Trial;
use serde_json::{json, Value};

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "notes: create answers 201 with the stored note",
            create_happy,
        ),
        Trial::test(
            "notes: create in another tenant's workspace is 404, nothing stored",
            create_other_tenant,
        ),
        Trial::test(
            "notes: create refuses bad input with 400 naming the field",
            create_bad_input,
        ),
        Trial::test("notes: create without a token is 401", create_without_token),
        Trial::test(
            "notes: get answers visible notes, 404 for another tenant's or a hidden private one",
            get_one,
        ),
        Trial::test(
            "notes: the author edits; a member editing it is 403, another tenant 404",
            edit,
        ),
        Trial::test(
            "notes: edit refuses bad input and a missing id with 400",
            edit_bad_input,
        ),
        Trial::test(
            "notes: trash and restore move a note between the list and the trash",
            trash_and_restore,
        ),
        Trial::test(
            "notes: only the author trashes; a member is 403, another tenant 404",
            trash_wrong_caller,
        ),
        Trial::test(
            "notes: delete for good needs aal2; the author deletes, others cannot",
            delete_for_good,
        ),
        Trial::test(
            "notes: the export route that returned the list's rows is gone",
            export_route_dropped,
        ),
    ]
}

fn note_url(path: &str, id: &str) -> String {
    functions_url(&format!("{path}?id={id}"))
}

/// The ids in a JSON array of notes.
fn ids(reply: &Reply) -> Result<Vec<String>, libtest_mimic::Failed> {
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    Ok(reply
        .json()
        .as_array()
        .ok_or("a JSON array")?
        .iter()
        .map(id_of)
        .collect())
}

/// Tenant B's seeded note (sql/seed/demo.sql).
const TENANT_B_NOTE: &str = "b1000000-0000-4000-8000-000000000001";

fn get_one() -> TestResult {
    join_workspace(TENANT_A, MEMBER_A, "member");
    let team = create_note(USER_A, TENANT_A, &unique_body("get team"), "team");
    let private = create_note(USER_A, TENANT_A, &unique_body("get private"), "private");
    let as_owner = get(
        &note_url("notes/note", &id_of(&private)),
        &as_headers(&signed_in(USER_A)),
    );
    check!(as_owner.status == 200, "{}", as_owner.body);
    check!(
        as_owner.json() == private,
        "the stored note: {}",
        as_owner.body
    );
    let member = signed_in(MEMBER_A);
    let team_as_member = get(&note_url("notes/note", &id_of(&team)), &as_headers(&member));
    check!(team_as_member.status == 200, "{}", team_as_member.body);
    expect_error(
        &get(
            &note_url("notes/note", &id_of(&private)),
            &as_headers(&member),
        ),
        404,
        "not_found",
    )?;
    expect_error(
        &get(
            &note_url("notes/note", TENANT_B_NOTE),
            &as_headers(&signed_in(USER_A)),
        ),
        404,
        "not_found",
    )?;
    expect_error(
        &get(
            &functions_url("notes/note"),
            &as_headers(&signed_in(USER_A)),
        ),
        400,
        "missing_query",
    )
}

fn edit() -> TestResult {
    join_workspace(TENANT_A, MEMBER_A, "member");
    let note = create_note(USER_A, TENANT_A, &unique_body("edit"), "team");
    let url = note_url("notes", &id_of(&note));
    let reply = patch(
        &url,
        &as_headers(&signed_in(USER_A)),
        json!({ "body": "edited", "visibility": "private" })
            .to_string()
            .as_bytes(),
    );
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    let edited = reply.json();
    check!(
        edited["body"] == "edited" && edited["visibility"] == "private",
        "{edited}"
    );
    // Back to the team, so the member sees it and is refused for their role.
    let reply = patch(
        &url,
        &as_headers(&signed_in(USER_A)),
        br#"{"visibility":"team"}"#,
    );
    check!(
        reply.status == 200 && reply.json()["body"] == "edited",
        "the body is kept: {}",
        reply.body
    );
    let by_member = patch(
        &url,
        &as_headers(&signed_in(MEMBER_A)),
        br#"{"body":"hijacked"}"#,
    );
    expect_error(&by_member, 403, "forbidden")?;
    let by_other_tenant = patch(
        &url,
        &as_headers(&signed_in(USER_B)),
        br#"{"body":"hijacked"}"#,
    );
    expect_error(&by_other_tenant, 404, "not_found")?;
    let stored: String = superuser()
        .query_one(
            "select body from public.notes where id = $1::text::uuid",
            &[&id_of(&note)],
        )
        .unwrap()
        .get(0);
    check!(
        stored == "edited",
        "unchanged by the refused edits: {stored}"
    );
    Ok(())
}

fn edit_bad_input() -> TestResult {
    let note = create_note(USER_A, TENANT_A, &unique_body("edit bad"), "team");
    let url = note_url("notes", &id_of(&note));
    let headers = signed_in(USER_A);
    for (body, code, field) in [
        (r#"{"body":""}"#, "invalid_field", "body"),
        (
            r#"{"visibility":"everyone"}"#,
            "invalid_field",
            "visibility",
        ),
        (
            r#"{"author_id":"bbbbbbbb-0000-4000-8000-000000000002"}"#,
            "unknown_field",
            "author_id",
        ),
        (r#"{"deleted_at":null}"#, "unknown_field", "deleted_at"),
    ] {
        let reply = patch(&url, &as_headers(&headers), body.as_bytes());
        expect_error(&reply, 400, code)?;
        check!(reply.json()["error"]["field"] == field, "{}", reply.body);
    }
    expect_error(
        &patch(
            &functions_url("notes"),
            &as_headers(&headers),
            br#"{"body":"x"}"#,
        ),
        400,
        "missing_query",
    )?;
    expect_error(
        &patch(
            &functions_url("notes?id=42"),
            &as_headers(&headers),
            br#"{"body":"x"}"#,
        ),
        400,
        "invalid_query",
    )
}

fn trash_and_restore() -> TestResult {
    let note = create_note(USER_A, TENANT_A, &unique_body("trash"), "team");
    let id = id_of(&note);
    let headers = signed_in(USER_A);
    let list = || {
        get(
            &functions_url(&format!("notes?workspace={TENANT_A}")),
            &as_headers(&headers),
        )
    };
    let trash = || get(&functions_url("notes/trash"), &as_headers(&headers));
    check!(ids(&list())?.contains(&id), "listed while live");
    let trashed = post(&note_url("notes/trash", &id), &as_headers(&headers), b"");
    check!(trashed.status == 200, "{} {}", trashed.status, trashed.body);
    check!(!trashed.json()["deleted_at"].is_null(), "{}", trashed.body);
    check!(!ids(&list())?.contains(&id), "no longer listed");
    check!(ids(&trash())?.contains(&id), "in the trash");
    let restored = post(&note_url("notes/restore", &id), &as_headers(&headers), b"");
    check!(
        restored.status == 200,
        "{} {}",
        restored.status,
        restored.body
    );
    check!(restored.json()["deleted_at"].is_null(), "{}", restored.body);
    check!(ids(&list())?.contains(&id), "listed again");
    check!(!ids(&trash())?.contains(&id), "out of the trash");
    Ok(())
}

fn trash_wrong_caller() -> TestResult {
    join_workspace(TENANT_A, MEMBER_A, "member");
    let note = create_note(USER_A, TENANT_A, &unique_body("trash other"), "team");
    let url = note_url("notes/trash", &id_of(&note));
    expect_error(
        &post(&url, &as_headers(&signed_in(MEMBER_A)), b""),
        403,
        "forbidden",
    )?;
    expect_error(
        &post(&url, &as_headers(&signed_in(USER_B)), b""),
        404,
        "not_found",
    )?;
    let restore = note_url("notes/restore", TENANT_B_NOTE);
    expect_error(
        &post(&restore, &as_headers(&signed_in(USER_A)), b""),
        404,
        "not_found",
    )?;
    let trashed: bool = superuser()
        .query_one(
            "select deleted_at is not null from public.notes where id = $1::text::uuid",
            &[&id_of(&note)],
        )
        .unwrap()
        .get(0);
    check!(!trashed, "the refused callers trashed nothing");
    Ok(())
}

fn note_exists(id: &str) -> bool {
    superuser()
        .query_one(
            "select exists (select 1 from public.notes where id = $1::text::uuid)",
            &[&id],
        )
        .unwrap()
        .get(0)
}

fn delete_for_good() -> TestResult {
    join_workspace(TENANT_A, MEMBER_A, "member");
    let key = local_es256_key();
    let note = create_note(USER_A, TENANT_A, &unique_body("delete"), "team");
    let id = id_of(&note);
    let url = note_url("notes", &id);
    let as_user = |user: &str, aal: &str| {
        let token = es256_user_token(&key, user, aal, Some(60));
        delete(&url, &[("authorization", &bearer(&token))])
    };
    expect_error(
        &delete(&url, &as_headers(&signed_in(USER_A))),
        403,
        "insufficient_aal",
    )?;
    expect_error(&as_user(USER_A, "aal1"), 403, "insufficient_aal")?;
    expect_error(&as_user(MEMBER_A, "aal2"), 403, "forbidden")?;
    expect_error(&as_user(USER_B, "aal2"), 404, "not_found")?;
    check!(note_exists(&id), "still there after the refusals");
    let deleted = as_user(USER_A, "aal2");
    check!(deleted.status == 200, "{} {}", deleted.status, deleted.body);
    check!(deleted.json()["id"] == id.as_str(), "{}", deleted.body);
    check!(!note_exists(&id), "gone for good");
    expect_error(&as_user(USER_A, "aal2"), 404, "not_found")
}

fn export_route_dropped() -> TestResult {
    // It answered the same rows as GET /notes behind a stronger guard, so that guard protected
    // nothing; an aal2 session now gets no note list from it.
    let key = local_es256_key();
    let token = es256_user_token(&key, USER_A, "aal2", Some(60));
    let reply = get(
        &functions_url("notes/export"),
        &[("authorization", &bearer(&token))],
    );
    expect_error(&reply, 404, "route_not_found")
}

fn note_count(body: &str) -> i64 {
    superuser()
        .query_one(
            "select count(*) from public.notes where body = $1",
            &[&body],
        )
        .unwrap()
        .get(0)
}

fn unique_body(tag: &str) -> String {
    format!("e2e {tag} {}", unique_suffix())
}

fn create_happy() -> TestResult {
    let body = unique_body("create");
    let reply = create_note_reply(
        USER_A,
        &json!({ "workspace_id": TENANT_A, "body": body, "visibility": "private" }),
    );
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    let note = reply.json();
    check!(note["workspace_id"] == TENANT_A, "{note}");
    check!(
        note["author_id"] == USER_A,
        "the caller is the author: {note}"
    );
    check!(note["body"] == body.as_str(), "{note}");
    check!(note["visibility"] == "private", "{note}");
    check!(note["deleted_at"] == Value::Null, "{note}");
    check!(note_count(&body) == 1, "stored once");
    // visibility defaults to the team.
    let team = create_note_reply(
        USER_A,
        &json!({ "workspace_id": TENANT_A, "body": unique_body("team") }),
    );
    check!(
        team.status == 201 && team.json()["visibility"] == "team",
        "{}",
        team.body
    );
    let private = create_note(USER_A, TENANT_A, &unique_body("helper"), "private");
    check!(private["visibility"] == "private", "{private}");
    Ok(())
}

fn create_other_tenant() -> TestResult {
    // Tenant B's workspace and one that does not exist answer alike: 404, no hint either exists.
    for workspace in [TENANT_B, "c0000000-0000-4000-8000-00000000000c"] {
        let body = unique_body("cross");
        let reply = create_note_reply(USER_A, &json!({ "workspace_id": workspace, "body": body }));
        expect_error(&reply, 404, "not_found")?;
        check!(note_count(&body) == 0, "nothing stored in {workspace}");
    }
    Ok(())
}

fn create_bad_input() -> TestResult {
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({ "workspace_id": TENANT_A }), "missing_field", "body"),
        (json!({ "body": "x" }), "missing_field", "workspace_id"),
        (
            json!({ "workspace_id": TENANT_A, "body": "" }),
            "invalid_field",
            "body",
        ),
        (
            json!({ "workspace_id": TENANT_A, "body": "x".repeat(10_001) }),
            "invalid_field",
            "body",
        ),
        (
            json!({ "workspace_id": TENANT_A, "body": "nul \u{0} byte" }),
            "invalid_field",
            "body",
        ),
        (
            json!({ "workspace_id": "tenant-a", "body": "x" }),
            "invalid_field",
            "workspace_id",
        ),
        (
            json!({ "workspace_id": TENANT_A, "body": "x", "visibility": "public" }),
            "invalid_field",
            "visibility",
        ),
        // The author is the caller, never the body's say.
        (
            json!({ "workspace_id": TENANT_A, "body": "x", "author_id": USER_B }),
            "unknown_field",
            "author_id",
        ),
    ];
    for (body, code, field) in cases {
        let reply = create_note_reply(USER_A, &body);
        expect_error(&reply, 400, code)?;
        check!(
            reply.json()["error"]["field"] == field,
            "field {field}: {}",
            reply.body
        );
    }
    let headers = signed_in(USER_A);
    let not_json = post(&functions_url("notes"), &as_headers(&headers), b"[1]");
    expect_error(&not_json, 400, "malformed_json")?;
    let oversized = post(
        &functions_url("notes"),
        &as_headers(&headers),
        &vec![b' '; 65 * 1024],
    );
    expect_error(&oversized, 413, "payload_too_large")
}

fn create_without_token() -> TestResult {
    let reply = post(
        &functions_url("notes"),
        &[],
        json!({ "workspace_id": TENANT_A, "body": "x" })
            .to_string()
            .as_bytes(),
    );
    expect_error(&reply, 401, "missing_credentials")
}
