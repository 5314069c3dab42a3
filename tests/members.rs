//! `/functions/v1/members?workspace=`: list, change role, remove (which also withdraws the removed
//! member's invitations and revokes their share links).

use libtest_mimic::Trial;
use serde_json::json;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "members: list with profiles; another tenant's workspace is 404",
            list_members,
        ),
        Trial::test(
            "members: owner promotes; member 403; admin cannot make an owner (403); bad role 400",
            change_roles,
        ),
        Trial::test(
            "members: the last owner cannot be removed or demoted (403); unknown member 404",
            keep_an_owner,
        ),
        Trial::test(
            "members: removing an admin withdraws their invitations, revokes their share links and locks them out",
            removal_revokes_grants,
        ),
    ]
}

fn members_url(workspace: &str, user: Option<&str>) -> String {
    let id = user.map(|u| format!("&id={u}")).unwrap_or_default();
    functions_url(&format!("members?workspace={workspace}{id}"))
}

fn set_role(caller: &TestUser, workspace: &str, user: &str, role: serde_json::Value) -> Reply {
    send(
        "PATCH",
        &members_url(workspace, Some(user)),
        &[("authorization", &caller.auth())],
        Some(&as_json(json!({ "role": role }))),
    )
}

fn remove(caller: &TestUser, workspace: &str, user: &str) -> Reply {
    send(
        "DELETE",
        &members_url(workspace, Some(user)),
        &[("authorization", &caller.auth())],
        None,
    )
}

fn list_members() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Listed");
    let put = send(
        "PUT",
        &functions_url("profile"),
        &[("authorization", &owner.auth())],
        Some(b"{\"display_name\":\"Olga Owner\"}"),
    );
    check!(put.status == 200, "profile: {}", put.body);
    let member = join_through_invitation(&owner, &workspace, "member");
    let listed = get(
        &members_url(&workspace, None),
        &[("authorization", &member.auth())],
    );
    check!(listed.status == 200, "a member lists: {}", listed.body);
    let rows = listed.json();
    let rows = rows.as_array().unwrap();
    check!(rows.len() == 2, "owner and member: {}", listed.body);
    check!(
        rows.iter().any(|r| r["user_id"] == owner.id.as_str()
            && r["role"] == "owner"
            && r["display_name"] == "Olga Owner"),
        "the owner with their profile: {}",
        listed.body
    );
    let outsider = TestUser::fresh("outsider");
    expect_error(
        &get(
            &members_url(&workspace, None),
            &[("authorization", &outsider.auth())],
        ),
        404,
        "workspace_not_found",
    )?;
    expect_error(
        &get(
            &functions_url("members?workspace=nope"),
            &[("authorization", &owner.auth())],
        ),
        400,
        "invalid_workspace",
    )?;
    Ok(())
}

fn change_roles() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Roles");
    let member = join_through_invitation(&owner, &workspace, "member");
    let other = join_through_invitation(&owner, &workspace, "member");
    expect_error(
        &set_role(&member, &workspace, &other.id, json!("admin")),
        403,
        "forbidden",
    )?;
    let promoted = set_role(&owner, &workspace, &member.id, json!("admin"));
    check!(
        promoted.status == 200 && promoted.json()["role"] == "admin",
        "owner promotes: {}",
        promoted.body
    );
    // Now an admin: may change a member's role, but never make an owner.
    expect_error(
        &set_role(&member, &workspace, &other.id, json!("owner")),
        403,
        "forbidden",
    )?;
    let by_admin = set_role(&member, &workspace, &other.id, json!("admin"));
    check!(
        by_admin.status == 200,
        "admin promotes a member: {}",
        by_admin.body
    );
    let bad = set_role(&owner, &workspace, &other.id, json!("superuser"));
    expect_error(&bad, 400, "invalid_field")?;
    check!(
        bad.json()["error"]["field"] == "role",
        "names role: {}",
        bad.body
    );
    let extra = send(
        "PATCH",
        &members_url(&workspace, Some(&other.id)),
        &[("authorization", &owner.auth())],
        Some(b"{\"role\":\"member\",\"user_id\":\"x\"}"),
    );
    expect_error(&extra, 400, "unknown_field")?;
    let outsider = TestUser::fresh("outsider");
    expect_error(
        &set_role(&outsider, &workspace, &member.id, json!("member")),
        404,
        "member_not_found",
    )?;
    Ok(())
}

fn keep_an_owner() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Owned");
    expect_error(&remove(&owner, &workspace, &owner.id), 403, "forbidden")?;
    expect_error(
        &set_role(&owner, &workspace, &owner.id, json!("admin")),
        403,
        "forbidden",
    )?;
    let stranger = TestUser::fresh("stranger");
    expect_error(
        &remove(&owner, &workspace, &stranger.id),
        404,
        "member_not_found",
    )?;
    expect_error(
        &send(
            "DELETE",
            &functions_url(&format!("members?workspace={workspace}")),
            &[("authorization", &owner.auth())],
            None,
        ),
        400,
        "missing_query",
    )?;
    Ok(())
}

fn removal_revokes_grants() -> TestResult {
    let owner = TestUser::fresh("owner");
    let workspace = create_workspace(&owner, "Removal");
    let admin = join_through_invitation(&owner, &workspace, "admin");
    let pending = TestUser::fresh("pending");
    let invited = invite(&admin, &workspace, &pending.email, "member");
    check!(invited.status == 201, "the admin invites: {}", invited.body);
    let token = invitation_token_sent_to(&pending.email);
    // A share link the admin created (share links have their own function; here the row itself).
    let mut db = superuser();
    db.execute(
        "with note as (
           insert into notes (workspace_id, author_id, body)
           values ($1::text::uuid, $2::text::uuid, 'shared by the admin') returning id)
         insert into share_links (workspace_id, note_id, token_hash, created_by)
         select $1::text::uuid, id, sha256(convert_to($3::text, 'UTF8')), $2::text::uuid from note",
        &[
            &workspace,
            &admin.id,
            &format!("e2e-share-{}", unique_suffix()),
        ],
    )?;
    let removed = remove(&owner, &workspace, &admin.id);
    check!(
        removed.status == 200,
        "owner removes the admin: {}",
        removed.body
    );
    let row = db.query_one(
        "select (select count(*) from invitations
                  where workspace_id = $1::text::uuid and invited_by = $2::text::uuid),
                (select count(*) from share_links
                  where workspace_id = $1::text::uuid and created_by = $2::text::uuid and revoked_at is null)",
        &[&workspace, &admin.id],
    )?;
    let (invitations, live_links): (i64, i64) = (row.get(0), row.get(1));
    check!(
        invitations == 0,
        "the admin's pending invitation is withdrawn"
    );
    check!(live_links == 0, "the admin's share link is revoked");
    expect_error(
        &accept_invitation(&pending, &token),
        404,
        "invitation_not_found",
    )?;
    expect_error(
        &get(
            &members_url(&workspace, None),
            &[("authorization", &admin.auth())],
        ),
        404,
        "workspace_not_found",
    )?;
    Ok(())
}
