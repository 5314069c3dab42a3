//! `/functions/v1/workspaces`: list, create, rename, delete (aal2 + recent sign-in), restore.

use libtest_mimic::Trial;
use serde_json::json;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "workspaces: create (server id, creator is owner), list, rename",
            create_list_rename,
        ),
        Trial::test(
            "workspaces: bad input is 400 naming the field; a client-chosen id is refused",
            bad_input,
        ),
        Trial::test(
            "workspaces: another tenant's workspace is 404 for rename, delete and restore",
            other_tenant,
        ),
        Trial::test(
            "workspaces: a member cannot rename (403); an admin cannot delete (403)",
            wrong_role,
        ),
        Trial::test(
            "workspaces: delete needs aal2 and a recent sign-in; the time is the server's; restore",
            delete_and_restore,
        ),
        Trial::test(
            "workspaces: a restore past the grace period is 410",
            restore_after_grace,
        ),
    ]
}

fn url(query: &str) -> String {
    functions_url(&format!("workspaces{query}"))
}

fn rename(user: &TestUser, id: &str, body: serde_json::Value) -> Reply {
    send(
        "PATCH",
        &url(&format!("?id={id}")),
        &[("authorization", &user.auth())],
        Some(&as_json(body)),
    )
}

fn delete_with(token: &str, id: &str) -> Reply {
    send(
        "DELETE",
        &url(&format!("?id={id}")),
        &[("authorization", &bearer(token))],
        None,
    )
}

fn restore_with(token: &str, id: &str) -> Reply {
    send(
        "POST",
        &functions_url(&format!("workspaces/restore?id={id}")),
        &[("authorization", &bearer(token))],
        None,
    )
}

fn create_list_rename() -> TestResult {
    let ada = TestUser::fresh("ada");
    let id = create_workspace(&ada, "Ada's team");
    let listed = get(&url(""), &[("authorization", &ada.auth())]);
    check!(listed.status == 200, "list: {}", listed.body);
    let mine: Vec<serde_json::Value> = listed.json().as_array().unwrap().clone();
    check!(
        mine.len() == 1,
        "a new user has exactly their one workspace: {}",
        listed.body
    );
    check!(
        mine[0]["id"] == id.as_str()
            && mine[0]["role"] == "owner"
            && mine[0]["deleted_at"].is_null(),
        "listed as its owner: {}",
        listed.body
    );
    let renamed = rename(&ada, &id, json!({ "name": "Ada & co" }));
    check!(
        renamed.status == 200 && renamed.json()["name"] == "Ada & co",
        "rename: {} {}",
        renamed.status,
        renamed.body
    );
    let created_by: String = superuser()
        .query_one(
            "select created_by::text from workspaces where id = $1::text::uuid",
            &[&id],
        )?
        .get(0);
    check!(created_by == ada.id, "created_by is the caller");
    Ok(())
}

fn bad_input() -> TestResult {
    let ada = TestUser::fresh("ada");
    let auth = ada.auth();
    let post = |body: &[u8]| send("POST", &url(""), &[("authorization", &auth)], Some(body));
    for (body, code, field) in [
        (json!({ "name": "" }), "invalid_field", "name"),
        (json!({ "name": "x".repeat(201) }), "invalid_field", "name"),
        (json!({ "name": 7 }), "invalid_field", "name"),
        (json!({}), "missing_field", "name"),
        // The id is the server's choice: a purged workspace's id cannot be asked for.
        (
            json!({ "name": "x", "id": "c0000000-0000-4000-8000-000000000003" }),
            "unknown_field",
            "id",
        ),
    ] {
        let reply = post(&as_json(body));
        expect_error(&reply, 400, code)?;
        check!(
            reply.json()["error"]["field"] == field,
            "names {field}: {}",
            reply.body
        );
    }
    expect_error(&post(b"name=x"), 400, "malformed_json")?;
    let id = create_workspace(&ada, "Ada");
    let no_id = send(
        "PATCH",
        &url(""),
        &[("authorization", &auth)],
        Some(b"{\"name\":\"x\"}"),
    );
    expect_error(&no_id, 400, "missing_query")?;
    expect_error(
        &rename(&ada, "not-a-uuid", json!({ "name": "x" })),
        400,
        "invalid_query",
    )?;
    expect_error(
        &rename(&ada, &id, json!({ "name": "a\u{0}b" })),
        400,
        "invalid_field",
    )?;
    expect_error(&get(&url(""), &[]), 401, "missing_credentials")?;
    Ok(())
}

fn other_tenant() -> TestResult {
    let owner = TestUser::fresh("owner");
    let outsider = TestUser::fresh("outsider");
    let id = create_workspace(&owner, "Private");
    expect_error(
        &rename(&outsider, &id, json!({ "name": "Hijacked" })),
        404,
        "workspace_not_found",
    )?;
    expect_error(
        &delete_with(&outsider.aal2_token(10), &id),
        404,
        "workspace_not_found",
    )?;
    expect_error(
        &restore_with(&outsider.aal2_token(10), &id),
        404,
        "workspace_not_found",
    )?;
    let listed = get(&url(""), &[("authorization", &outsider.auth())]);
    check!(
        listed.body == "[]",
        "the outsider lists nothing: {}",
        listed.body
    );
    let name: String = superuser()
        .query_one(
            "select name from workspaces where id = $1::text::uuid",
            &[&id],
        )?
        .get(0);
    check!(name == "Private", "unchanged");
    Ok(())
}

fn wrong_role() -> TestResult {
    let owner = TestUser::fresh("owner");
    let id = create_workspace(&owner, "Roles");
    let member = join_through_invitation(&owner, &id, "member");
    let admin = join_through_invitation(&owner, &id, "admin");
    expect_error(
        &rename(&member, &id, json!({ "name": "x" })),
        403,
        "forbidden",
    )?;
    let by_admin = rename(&admin, &id, json!({ "name": "Renamed by admin" }));
    check!(
        by_admin.status == 200,
        "an admin renames: {}",
        by_admin.body
    );
    expect_error(&delete_with(&admin.aal2_token(10), &id), 403, "forbidden")?;
    expect_error(&delete_with(&member.aal2_token(10), &id), 403, "forbidden")?;
    Ok(())
}

fn delete_and_restore() -> TestResult {
    let owner = TestUser::fresh("owner");
    let id = create_workspace(&owner, "Short-lived");
    expect_error(&delete_with(&owner.token(), &id), 403, "insufficient_aal")?;
    expect_error(
        &delete_with(&owner.aal2_token(3600), &id),
        403,
        "reauthentication_required",
    )?;
    let deleted = delete_with(&owner.aal2_token(10), &id);
    check!(deleted.status == 200, "delete: {}", deleted.body);
    check!(
        !deleted.json()["deleted_at"].is_null(),
        "deleted: {}",
        deleted.body
    );
    let age_secs: f64 = superuser()
        .query_one(
            "select extract(epoch from now() - deleted_at)::float8 from workspaces where id = $1::text::uuid",
            &[&id],
        )?
        .get(0);
    check!(
        (0.0..600.0).contains(&age_secs),
        "deleted_at is the server's clock ({age_secs} s ago)"
    );
    expect_error(
        &delete_with(&owner.aal2_token(10), &id),
        409,
        "already_deleted",
    )?;
    let listed = get(&url(""), &[("authorization", &owner.auth())]);
    check!(
        listed.json()[0]["restorable_until"].is_string(),
        "the owner still lists it, restorable: {}",
        listed.body
    );
    expect_error(&restore_with(&owner.token(), &id), 403, "insufficient_aal")?;
    let restored = restore_with(&owner.aal2_token(10), &id);
    check!(
        restored.status == 200 && restored.json()["deleted_at"].is_null(),
        "restore: {}",
        restored.body
    );
    expect_error(
        &restore_with(&owner.aal2_token(10), &id),
        409,
        "not_deleted",
    )?;
    Ok(())
}

fn restore_after_grace() -> TestResult {
    let owner = TestUser::fresh("owner");
    let id = create_workspace(&owner, "Long gone");
    superuser().execute(
        "update workspaces set deleted_at = now() - interval '31 days' where id = $1::text::uuid",
        &[&id],
    )?;
    expect_error(
        &restore_with(&owner.aal2_token(10), &id),
        410,
        "grace_period_over",
    )?;
    Ok(())
}
