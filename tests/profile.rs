//! `/functions/v1/profile`: the signed-in user's own profile.

use libtest_mimic::Trial;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "profile: 404 before the first PUT; PUT creates and replaces; GET reads one's own",
            put_and_get,
        ),
        Trial::test("profile: bad input is 400 naming the field", bad_input),
    ]
}

fn put(user: &TestUser, body: &[u8]) -> Reply {
    send(
        "PUT",
        &functions_url("profile"),
        &[("authorization", &user.auth())],
        Some(body),
    )
}

fn put_and_get() -> TestResult {
    let user = TestUser::fresh("profiled");
    let auth = user.auth();
    expect_error(
        &get(&functions_url("profile"), &[("authorization", &auth)]),
        404,
        "profile_not_found",
    )?;
    let created = put(
        &user,
        br#"{"display_name":"Pat","avatar_url":"https://cdn.test/pat.png"}"#,
    );
    check!(
        created.status == 200 && created.json()["id"] == user.id.as_str(),
        "create: {}",
        created.body
    );
    let replaced = put(&user, br#"{"display_name":"Pat Q."}"#);
    check!(
        replaced.json()["display_name"] == "Pat Q." && replaced.json()["avatar_url"].is_null(),
        "replace: {}",
        replaced.body
    );
    let read = get(&functions_url("profile"), &[("authorization", &auth)]);
    check!(
        read.status == 200 && read.json()["display_name"] == "Pat Q.",
        "read: {}",
        read.body
    );
    let other = TestUser::fresh("other");
    expect_error(
        &get(
            &functions_url("profile"),
            &[("authorization", &other.auth())],
        ),
        404,
        "profile_not_found",
    )?;
    Ok(())
}

fn bad_input() -> TestResult {
    let user = TestUser::fresh("profiled");
    for (body, code, field) in [
        (
            &br#"{"display_name":""}"#[..],
            "invalid_field",
            "display_name",
        ),
        (
            br#"{"display_name":"P","avatar_url":"http://x.test/a.png"}"#,
            "invalid_field",
            "avatar_url",
        ),
        (
            br#"{"display_name":"P","avatar_url":"javascript:alert(1)"}"#,
            "invalid_field",
            "avatar_url",
        ),
        (
            br#"{"display_name":"P","id":"c1000000-0000-4000-8000-000000000001"}"#,
            "unknown_field",
            "id",
        ),
        (br#"{}"#, "missing_field", "display_name"),
    ] {
        let reply = put(&user, body);
        expect_error(&reply, 400, code)?;
        check!(
            reply.json()["error"]["field"] == field,
            "names {field}: {}",
            reply.body
        );
    }
    expect_error(
        &send(
            "POST",
            &functions_url("profile"),
            &[("authorization", &user.auth())],
            Some(b"{}"),
        ),
        405,
        "method_not_allowed",
    )?;
    Ok(())
}
