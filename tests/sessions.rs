//! Sign out everywhere: `POST /functions/v1/profile/sign-out-everywhere` ends every session of
//! the caller, and every function refuses tokens of those sessions from the next request on.

use libtest_mimic::Trial;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "sessions: after sign-out-everywhere every function refuses the user's old tokens",
            sign_out_everywhere,
        ),
        Trial::test(
            "sessions: a token naming a session that does not exist is 401 session_revoked",
            unknown_session,
        ),
    ]
}

fn sign_out_everywhere() -> TestResult {
    let user = TestUser::fresh("signout");
    let bystander = TestUser::fresh("bystander");
    let (_, laptop) = start_session(&user);
    let (_, phone) = start_session(&user);
    let (_, other) = start_session(&bystander);
    let auth = |token: &str| [("authorization", bearer(token))];
    for (function, token) in [
        ("workspaces", &laptop),
        ("notes", &phone),
        ("workspaces", &other),
    ] {
        let reply = get(&functions_url(function), &as_headers(&auth(token)));
        check!(
            reply.status == 200,
            "{function} before: {} {}",
            reply.status,
            reply.body
        );
    }
    let signed_out = post(
        &functions_url("profile/sign-out-everywhere"),
        &as_headers(&auth(&laptop)),
        b"",
    );
    check!(
        signed_out.status == 200,
        "{} {}",
        signed_out.status,
        signed_out.body
    );
    check!(
        signed_out.json()["sessions_ended"] == 2,
        "{}",
        signed_out.body
    );
    for function in ["workspaces", "notes", "profile"] {
        for token in [&laptop, &phone] {
            let reply = get(&functions_url(function), &as_headers(&auth(token)));
            expect_error(&reply, 401, "session_revoked")?;
        }
    }
    let again = post(
        &functions_url("profile/sign-out-everywhere"),
        &as_headers(&auth(&phone)),
        b"",
    );
    expect_error(&again, 401, "session_revoked")?;
    // Another user's session is untouched.
    let reply = get(&functions_url("workspaces"), &as_headers(&auth(&other)));
    check!(
        reply.status == 200,
        "bystander: {} {}",
        reply.status,
        reply.body
    );
    let left: i64 = superuser()
        .query_one(
            "select count(*) from auth.sessions where user_id = $1::text::uuid",
            &[&user.id],
        )
        .unwrap()
        .get(0);
    check!(left == 0, "no session left: {left}");
    Ok(())
}

fn unknown_session() -> TestResult {
    let user = TestUser::fresh("nosession");
    let (session_id, token) = start_session(&user);
    superuser()
        .execute(
            "delete from auth.sessions where id = $1::text::uuid",
            &[&session_id],
        )
        .unwrap();
    let reply = get(
        &functions_url("workspaces"),
        &[("authorization", &bearer(&token))],
    );
    expect_error(&reply, 401, "session_revoked")
}
