//! `/functions/v1/invitations`: create (mailed through the Resend stand-in), list pending,
//! withdraw, accept (the invitee's e-mail, once).

use libtest_mimic::Trial;
use serde_json::json;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "invitations: the token is mailed (never answered), stored hashed, accepted once",
            invite_and_accept,
        ),
        Trial::test(
            "invitations: a user with another e-mail cannot accept the token (404)",
            other_email,
        ),
        Trial::test(
            "invitations: member 403, other tenant 404, bad input 400 naming the field",
            refusals,
        ),
        Trial::test(
            "invitations: a withdrawn invitation cannot be accepted",
            withdraw,
        ),
        Trial::test(
            "invitations: when the e-mail provider fails the answer is 503 and nothing stays pending",
            provider_down,
        ),
    ]
}

fn pending(caller: &TestUser, workspace: &str) -> Reply {
    get(
        &functions_url(&format!("invitations?workspace={workspace}")),
        &[("authorization", &caller.auth())],
    )
}

fn invite_and_accept() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Inviting <Co>");
    let invitee = TestUser::fresh("invitee");
    let invited = invite(&owner, &workspace, &invitee.email, "admin");
    check!(invited.status == 201, "invite: {}", invited.body);
    let body = invited.json();
    check!(
        body["email"] == invitee.email.as_str()
            && body["role"] == "admin"
            && body.get("token").is_none(),
        "the answer describes the invitation without its token: {}",
        invited.body
    );
    let mails = mails_to(&invitee.email);
    check!(mails.len() == 1, "one mail to the invitee: {mails:?}");
    check!(
        mails[0]["from"] == var("EMAIL_FROM")
            && mails[0]["subject"] == "You are invited to Inviting <Co>",
        "sender and subject: {}",
        mails[0]
    );
    let token = invitation_token_sent_to(&invitee.email);
    check!(
        !invited.body.contains(&token),
        "the token is not in the API answer"
    );
    let stored: bool = superuser()
        .query_one(
            "select token_hash = sha256(convert_to($2::text, 'UTF8')) from invitations where id = $1::text::uuid",
            &[&body["id"].as_str().unwrap(), &token],
        )?
        .get(0);
    check!(stored, "only the token's sha256 is stored");
    let listed = pending(&owner, &workspace);
    check!(
        listed.status == 200 && listed.body.contains(body["id"].as_str().unwrap()),
        "pending: {}",
        listed.body
    );
    let accepted = accept_invitation(&invitee, &token);
    check!(
        accepted.status == 200
            && accepted.json()["workspace_id"] == workspace.as_str()
            && accepted.json()["role"] == "admin",
        "accept: {}",
        accepted.body
    );
    expect_error(
        &accept_invitation(&invitee, &token),
        404,
        "invitation_not_found",
    )?;
    let listed = pending(&owner, &workspace);
    check!(
        listed.body == "[]",
        "nothing pending after acceptance: {}",
        listed.body
    );
    let mine = get(
        &functions_url("workspaces"),
        &[("authorization", &invitee.auth())],
    );
    check!(
        mine.json()[0]["id"] == workspace.as_str() && mine.json()[0]["role"] == "admin",
        "the invitee now lists the workspace: {}",
        mine.body
    );
    Ok(())
}

fn other_email() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Bound");
    let invitee = TestUser::fresh("invitee");
    check!(
        invite(&owner, &workspace, &invitee.email, "member").status == 201,
        "invite"
    );
    let token = invitation_token_sent_to(&invitee.email);
    let thief = TestUser::fresh("thief");
    expect_error(
        &accept_invitation(&thief, &token),
        404,
        "invitation_not_found",
    )?;
    expect_error(
        &get(
            &functions_url(&format!("members?workspace={workspace}")),
            &[("authorization", &thief.auth())],
        ),
        404,
        "workspace_not_found",
    )?;
    check!(
        accept_invitation(&invitee, &token).status == 200,
        "the invitee still can"
    );
    expect_error(
        &accept_invitation(&invitee, "not-a-token"),
        404,
        "invitation_not_found",
    )?;
    Ok(())
}

fn refusals() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Refusing");
    let member = join_through_invitation(&owner, &workspace, "member");
    let someone = TestUser::fresh("someone");
    expect_error(
        &invite(&member, &workspace, &someone.email, "member"),
        403,
        "forbidden",
    )?;
    expect_error(&pending(&member, &workspace), 403, "forbidden")?;
    let outsider = TestUser::fresh("outsider");
    expect_error(
        &invite(&outsider, &workspace, &someone.email, "member"),
        404,
        "workspace_not_found",
    )?;
    expect_error(&pending(&outsider, &workspace), 404, "workspace_not_found")?;
    let post = |body: serde_json::Value| {
        send(
            "POST",
            &functions_url(&format!("invitations?workspace={workspace}")),
            &[("authorization", &owner.auth())],
            Some(&as_json(body)),
        )
    };
    for (body, code, field) in [
        (
            json!({ "email": "not an address" }),
            "invalid_field",
            "email",
        ),
        (
            json!({ "email": "a@b.test", "role": "owner" }),
            "invalid_field",
            "role",
        ),
        (
            json!({ "email": "a@b.test", "token": "mine" }),
            "unknown_field",
            "token",
        ),
        (json!({ "role": "member" }), "missing_field", "email"),
    ] {
        let reply = post(body);
        expect_error(&reply, 400, code)?;
        check!(
            reply.json()["error"]["field"] == field,
            "names {field}: {}",
            reply.body
        );
    }
    let empty_token = send(
        "POST",
        &functions_url("invitations/accept"),
        &[("authorization", &someone.auth())],
        Some(b"{\"token\":\"\"}"),
    );
    expect_error(&empty_token, 400, "invalid_field")?;
    expect_error(
        &send(
            "POST",
            &functions_url("invitations/accept"),
            &[],
            Some(b"{\"token\":\"x\"}"),
        ),
        401,
        "missing_credentials",
    )?;
    Ok(())
}

fn withdraw() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Withdrawing");
    let invitee = TestUser::fresh("invitee");
    let invited = invite(&owner, &workspace, &invitee.email, "member");
    let id = invited.json()["id"].as_str().unwrap().to_owned();
    let token = invitation_token_sent_to(&invitee.email);
    let member = join_through_invitation(&owner, &workspace, "member");
    let url = functions_url(&format!("invitations?workspace={workspace}&id={id}"));
    expect_error(
        &send("DELETE", &url, &[("authorization", &member.auth())], None),
        403,
        "forbidden",
    )?;
    let done = send("DELETE", &url, &[("authorization", &owner.auth())], None);
    check!(done.status == 200, "withdraw: {}", done.body);
    expect_error(
        &send("DELETE", &url, &[("authorization", &owner.auth())], None),
        404,
        "invitation_not_found",
    )?;
    expect_error(
        &accept_invitation(&invitee, &token),
        404,
        "invitation_not_found",
    )?;
    Ok(())
}

fn provider_down() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Unlucky");
    let reply = invite(&owner, &workspace, "someone@provider-down.test", "member");
    expect_error(&reply, 503, "upstream_unavailable")?;
    let left: i64 = superuser()
        .query_one(
            "select count(*) from invitations where workspace_id = $1::text::uuid",
            &[&workspace],
        )?
        .get(0);
    check!(left == 0, "the unsent invitation was withdrawn");
    Ok(())
}
