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
    ]
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
