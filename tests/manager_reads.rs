//! `/functions/v1/billing` and `/functions/v1/audit-log`: owners and admins read; a plain member
//! is 403; another tenant 404.

use libtest_mimic::Trial;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "billing: owner and admin read the state; member 403, other tenant 404",
            billing,
        ),
        Trial::test(
            "audit-log: pages newest first by keyset; member 403, other tenant 404",
            audit_log,
        ),
        Trial::test(
            "audit-log: a bad page size or cursor is 400",
            audit_log_bad_query,
        ),
    ]
}

fn billing() -> TestResult {
    join_workspace(TENANT_A, ADMIN_A, "admin");
    join_workspace(TENANT_A, MEMBER_A, "member");
    let url = functions_url(&format!("billing?workspace={TENANT_A}"));
    for user in [USER_A, ADMIN_A] {
        let reply = get(&url, &as_headers(&signed_in(user)));
        check!(reply.status == 200, "{} {}", reply.status, reply.body);
        let state = reply.json();
        check!(
            state["workspace_id"] == TENANT_A && state["status"].is_string(),
            "{state}"
        );
    }
    expect_error(
        &get(&url, &as_headers(&signed_in(MEMBER_A))),
        403,
        "forbidden",
    )?;
    expect_error(
        &get(&url, &as_headers(&signed_in(USER_B))),
        404,
        "not_found",
    )?;
    expect_error(
        &get(&functions_url("billing"), &as_headers(&signed_in(USER_A))),
        400,
        "workspace_required",
    )
}

fn page(user: &str, query: &str) -> Reply {
    get(
        &functions_url(&format!("audit-log?workspace={TENANT_A}{query}")),
        &as_headers(&signed_in(user)),
    )
}

fn audit_log() -> TestResult {
    join_workspace(TENANT_A, MEMBER_A, "member");
    // Share links are audited: three new entries at least.
    let note = create_note(USER_A, TENANT_A, "audited", "team");
    for _ in 0..3 {
        create_share_link(USER_A, &id_of(&note));
    }
    let first = page(USER_A, "&limit=2");
    check!(first.status == 200, "{} {}", first.status, first.body);
    let first = first.json();
    let entries = first["entries"].as_array().ok_or("entries")?;
    check!(entries.len() == 2, "two entries: {first}");
    let ids: Vec<i64> = entries.iter().filter_map(|e| e["id"].as_i64()).collect();
    check!(ids[0] > ids[1], "newest first: {ids:?}");
    let cursor = first["next_before"].as_i64().ok_or("a cursor")?;
    check!(cursor == ids[1], "the cursor is the last id: {first}");
    let second = page(USER_A, &format!("&limit=2&before={cursor}")).json();
    let next: Vec<i64> = second["entries"]
        .as_array()
        .ok_or("entries")?
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    check!(
        !next.is_empty() && next.iter().all(|id| *id < cursor),
        "the next page continues below the cursor: {next:?}"
    );
    expect_error(&page(MEMBER_A, ""), 403, "forbidden")?;
    expect_error(&page(USER_B, ""), 404, "not_found")
}

fn audit_log_bad_query() -> TestResult {
    for query in [
        "&limit=0",
        "&limit=101",
        "&limit=x",
        "&before=0",
        "&before=-5",
    ] {
        expect_error(&page(USER_A, query), 400, "invalid_query")?;
    }
    Ok(())
}
