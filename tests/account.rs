//! `/functions/v1/account` (export, deletion with grace) and the retention job's account purge,
//! audit retention and rate-limit windows (`functions/cron-retention`).

use std::collections::BTreeSet;

use libtest_mimic::Trial;
use serde_json::Value;

use crate::support::*;
use crate::{cron_secret, expect_error};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "account: the export needs a token, aal2 and a sign-in within 15 minutes",
            export_needs_aal2_and_recent_sign_in,
        ),
        Trial::test(
            "account: the export holds every table with user data, only the caller's rows, no secrets",
            export_covers_every_user_data_table,
        ),
        Trial::test(
            "account: a large account's export streams back as one valid bundle",
            export_of_a_large_account,
        ),
        Trial::test(
            "account: deletion needs aal2, is cancelled within the grace period, and after it leaves no row, no R2 object, no auth user and no working token",
            deletion_with_grace_then_purge,
        ),
        Trial::test(
            "retention: an audit entry 19 months old is purged, one 17 months old is kept; the trail stays append-only",
            audit_retention,
        ),
        Trial::test(
            "retention: rate-limit windows older than the retention period are purged",
            rate_limit_window_retention,
        ),
    ]
}

fn account_url(path: &str) -> String {
    functions_url(&format!("account{path}"))
}

fn with_token(token: &str) -> [(&'static str, String); 1] {
    [("authorization", bearer(token))]
}

fn export_as(user: &TestUser) -> Reply {
    get(
        &account_url("/export"),
        &as_headers(&with_token(&user.aal2_token(60))),
    )
}

/// Tables whose rows the export and the purge attribute to users, from the catalog's rules.
fn user_data_tables() -> BTreeSet<String> {
    superuser()
        .query(
            "select c.relname::text from private.account_data_rules r
               join pg_class c on c.oid = r.table_name where r.on_account_purge <> 'none'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn export_needs_aal2_and_recent_sign_in() -> TestResult {
    let user = TestUser::fresh("exporter");
    expect_error(
        &get(&account_url("/export"), &[]),
        401,
        "missing_credentials",
    )?;
    expect_error(
        &get(&account_url("/export"), &[("authorization", &user.auth())]),
        403,
        "insufficient_aal",
    )?;
    expect_error(
        &get(
            &account_url("/export"),
            &as_headers(&with_token(&user.aal2_token(2 * 3600))),
        ),
        403,
        "reauthentication_required",
    )?;
    let fine = export_as(&user);
    check!(fine.status == 200, "{} {}", fine.status, fine.body);
    Ok(())
}

fn export_covers_every_user_data_table() -> TestResult {
    let user = TestUser::fresh("exported");
    let other = TestUser::fresh("colleague");
    let workspace = create_workspace(&user, "Export");
    join_workspace(&workspace, &other.id, "member");
    put(
        &functions_url("profile"),
        &[("authorization", &user.auth())],
        br#"{"display_name":"Exporter"}"#,
    );
    let note = create_note(&user.id, &workspace, "mine", "team");
    create_note(&other.id, &workspace, "theirs", "team");
    let elsewhere = create_workspace(&other, "Elsewhere");
    let invited = invite(&other, &elsewhere, &user.email, "member");
    check!(invited.status == 201, "invitation: {}", invited.body);
    create_share_link(&user.id, note["id"].as_str().unwrap());

    let reply = export_as(&user);
    check!(reply.status == 200, "{} {}", reply.status, reply.body);
    check!(
        reply.content_type.starts_with("application/json"),
        "{}",
        reply.content_type
    );
    let bundle = reply.json();
    check!(
        bundle["format"] == "rls-edge.account-export" && bundle["format_version"] == 1,
        "format: {}",
        reply.body
    );
    check!(
        bundle["user_id"] == user.id.as_str(),
        "user: {}",
        reply.body
    );
    let tables: BTreeSet<String> = bundle["tables"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    check!(
        tables == user_data_tables(),
        "the bundle's tables {tables:?} are the tables with user data {:?}",
        user_data_tables()
    );
    let rows = |table: &str| bundle["tables"][table].as_array().unwrap().clone();
    check!(
        rows("profiles").len() == 1 && rows("profiles")[0]["display_name"] == "Exporter",
        "profile: {:?}",
        rows("profiles")
    );
    check!(
        rows("notes").len() == 1 && rows("notes")[0]["body"] == "mine",
        "only the caller's notes: {:?}",
        rows("notes")
    );
    check!(
        rows("memberships").len() == 1 && rows("memberships")[0]["role"] == "owner",
        "membership: {:?}",
        rows("memberships")
    );
    check!(
        rows("invitations").len() == 1
            && rows("invitations")[0]["email"] == user.email.as_str()
            && rows("invitations")[0].get("token_hash").is_none(),
        "the invitation addressed to the caller, without its token hash: {:?}",
        rows("invitations")
    );
    check!(
        rows("share_links").len() == 1 && rows("share_links")[0].get("token_hash").is_none(),
        "share link without its token hash: {:?}",
        rows("share_links")
    );
    check!(
        !rows("audit_log").is_empty()
            && rows("audit_log")
                .iter()
                .all(|entry| entry["actor_id"] == user.id.as_str()),
        "the caller's own audit entries: {:?}",
        rows("audit_log")
    );
    Ok(())
}

fn export_of_a_large_account() -> TestResult {
    let user = TestUser::fresh("prolific");
    let workspace = create_workspace(&user, "Large");
    const NOTES: i64 = 5000;
    superuser()
        .execute(
            "insert into public.notes (workspace_id, author_id, body)
             select $1::text::uuid, $2::text::uuid, 'note ' || n || ' ' || repeat('x', 200)
               from generate_series(1, $3::bigint) n",
            &[&workspace, &user.id, &NOTES],
        )
        .unwrap();
    let reply = export_as(&user);
    check!(reply.status == 200, "{}", reply.status);
    let bundle: Value = serde_json::from_str(&reply.body)
        .map_err(|e| format!("not one JSON document ({e}), {} bytes", reply.body.len()))?;
    check!(bundle["format_version"] == 1, "format version");
    let notes = bundle["tables"]["notes"].as_array().unwrap();
    check!(
        notes.len() as i64 == NOTES,
        "{} notes of {NOTES}",
        notes.len()
    );
    Ok(())
}

/// The Auth admin API stand-in (ci/auth-admin-standin.mjs) on LOCAL_FUNCTIONS_PORT + 18.
fn auth_admin(method: &str, path: &str, body: Option<&Value>) -> Reply {
    let key = var("SUPABASE_SERVICE_ROLE_KEY");
    let bytes = body.map(|b| b.to_string().into_bytes());
    send(
        method,
        &format!("{}/auth/v1/admin/users{path}", stand_in_url(18)),
        &[
            ("apikey", key),
            ("authorization", &format!("Bearer {key}")),
            ("content-type", "application/json"),
        ],
        bytes.as_deref(),
    )
}

fn run_cron() -> TestResult {
    let reply = post(
        &functions_url("cron-retention"),
        &[("x-cron-secret", cron_secret())],
        b"",
    );
    check!(reply.status == 200, "cron: {} {}", reply.status, reply.body);
    Ok(())
}

fn count(sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> i64 {
    superuser().query_one(sql, params).unwrap().get(0)
}

fn deletion_with_grace_then_purge() -> TestResult {
    let user = TestUser::fresh("leaving");
    let admin = TestUser::fresh("successor");
    let created = auth_admin(
        "POST",
        "",
        Some(&serde_json::json!({"id": user.id, "email": user.email, "email_confirm": true})),
    );
    check!(created.status == 200, "auth user: {}", created.body);
    let shared = create_workspace(&user, "Shared");
    join_workspace(&shared, &admin.id, "admin");
    let alone = create_workspace(&user, "Alone");
    let note = create_note(&user.id, &shared, "goes with the account", "team");
    create_share_link(&user.id, note["id"].as_str().unwrap());
    put(
        &functions_url("profile"),
        &[("authorization", &user.auth())],
        br#"{"display_name":"Leaving"}"#,
    );
    // An invitation addressed to the user names them by address only; a signed-in session of
    // theirs has tokens that must stop working once the account is gone.
    let inviter = TestUser::fresh("inviter");
    let inviting = create_workspace(&inviter, "Inviting");
    let invited = invite(&inviter, &inviting, &user.email, "member");
    check!(invited.status == 201, "invitation: {}", invited.body);
    let (_, session_token) = start_session(&user);
    // Files: the user's own in the shared workspace (they go), the admin's there (it stays), and
    // a former member's in the workspace that goes with the account (it goes with it).
    upload_text(&user, &shared, "mine.txt", "the leaving user's file");
    let kept = upload_text(&admin, &shared, "theirs.txt", "the successor's file");
    let former = TestUser::fresh("former");
    join_workspace(&alone, &former.id, "member");
    upload_text(&former, &alone, "left.txt", "a former member's file");
    superuser().execute(
        "delete from public.memberships where workspace_id = $1::text::uuid and user_id = $2::text::uuid",
        &[&alone, &former.id],
    )?;
    let deletion = account_url("/deletion");
    let fresh = with_token(&user.aal2_token(60));

    expect_error(
        &post(&deletion, &[("authorization", &user.auth())], b""),
        403,
        "insufficient_aal",
    )?;
    expect_error(
        &post(
            &deletion,
            &as_headers(&with_token(&user.aal2_token(3600))),
            b"",
        ),
        403,
        "reauthentication_required",
    )?;
    let requested = post(&deletion, &as_headers(&fresh), b"");
    check!(
        requested.status == 202,
        "{} {}",
        requested.status,
        requested.body
    );
    let plan = requested.json()["sole_owned_workspaces"].clone();
    check!(
        plan.as_array().unwrap().len() == 2
            && plan
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["workspace_id"] == shared.as_str() && w["successor"] == "transferred")
            && plan
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["workspace_id"] == alone.as_str()
                    && w["successor"] == "deleted_with_account"),
        "plan: {plan}"
    );
    // Pending: everything but reading the account's state and cancelling is refused.
    expect_error(
        &get(&functions_url("notes"), &[("authorization", &user.auth())]),
        403,
        "account_pending_deletion",
    )?;
    expect_error(&export_as(&user), 403, "account_pending_deletion")?;
    let state = get(&account_url(""), &[("authorization", &user.auth())]);
    check!(state.json()["pending"] == true, "state: {}", state.body);
    // Cancelling needs the second factor too, then the account works again.
    expect_error(
        &delete(&deletion, &[("authorization", &user.auth())]),
        403,
        "insufficient_aal",
    )?;
    let cancelled = delete(&deletion, &as_headers(&fresh));
    check!(
        cancelled.status == 200,
        "{} {}",
        cancelled.status,
        cancelled.body
    );
    expect_error(
        &delete(&deletion, &as_headers(&fresh)),
        404,
        "no_deletion_pending",
    )?;
    let notes = get(&functions_url("notes"), &[("authorization", &user.auth())]);
    check!(notes.status == 200, "after cancel: {}", notes.body);

    let again = post(&deletion, &as_headers(&fresh), b"");
    check!(again.status == 202, "{} {}", again.status, again.body);
    // Inside the grace period the job leaves the account alone.
    run_cron()?;
    check!(
        auth_admin("GET", &format!("/{}", user.id), None).status == 200,
        "the auth user stays during the grace period"
    );
    // The clock moves 31 days on (the grace period is 30).
    superuser()
        .execute(
            "update private.account_deletions
                set requested_at = requested_at - interval '31 days',
                    purge_after = purge_after - interval '31 days'
              where user_id = $1::text::uuid",
            &[&user.id],
        )
        .unwrap();
    run_cron()?;

    let gone = auth_admin("GET", &format!("/{}", user.id), None);
    check!(
        gone.status == 404,
        "auth user: {} {}",
        gone.status,
        gone.body
    );
    let mut db = superuser();
    for rule in db
        .query(
            "select r.table_name::text, r.user_columns from private.account_data_rules r
              where r.on_account_purge in ('delete', 'clear', 'pseudonymise')",
            &[],
        )
        .unwrap()
    {
        let table: String = rule.get(0);
        let columns: Vec<String> = rule.get(1);
        for column in columns {
            let left = count(
                &format!("select count(*) from {table} where {column} = $1::text::uuid"),
                &[&user.id],
            );
            check!(
                left == 0,
                "{left} rows of {table}.{column} still name the user"
            );
        }
    }
    let mentions = count(
        "select count(*) from public.audit_log where strpos(details::text || coalesce(target_id, ''), $1) > 0",
        &[&user.id],
    );
    check!(
        mentions == 0,
        "{mentions} audit entries still hold the user's id"
    );
    let addressed = count(
        "select count(*) from public.invitations where lower(email) = lower($1)",
        &[&user.email],
    ) + count(
        "select count(*) from public.audit_log where strpos(lower(details::text), lower($1)) > 0",
        &[&user.email],
    );
    check!(
        addressed == 0,
        "{addressed} invitations or audit entries still hold the user's address"
    );
    expect_error(
        &get(
            &functions_url("notes"),
            &[("authorization", &bearer(&session_token))],
        ),
        401,
        "session_revoked",
    )?;
    // The bucket itself: nothing of the removed workspace, nothing of the user's, the
    // successor's file (both copies) still there.
    let in_shared = r2_keys_under(&format!("{shared}/"));
    check!(
        r2_keys_under(&format!("{alone}/")).is_empty()
            && in_shared.len() == 2
            && in_shared.iter().all(|key| key.contains(&kept)),
        "objects left: removed workspace {:?}, shared {in_shared:?}",
        r2_keys_under(&format!("{alone}/"))
    );
    let pseudonymised = count(
        "select count(*) from public.audit_log where workspace_id = $1::text::uuid
            and actor_pseudonym like 'user:%' and actor_id is null",
        &[&shared],
    );
    check!(
        pseudonymised > 0,
        "the user's audit entries survive, pseudonymised"
    );
    let successor = count(
        "select count(*) from public.memberships where workspace_id = $1::text::uuid
            and user_id = $2::text::uuid and role = 'owner'",
        &[&shared, &admin.id],
    );
    check!(successor == 1, "the admin owns the shared workspace now");
    let alone_left = count(
        "select count(*) from public.workspaces where id = $1::text::uuid",
        &[&alone],
    );
    check!(
        alone_left == 0,
        "the workspace nobody else was in is removed"
    );
    Ok(())
}

fn audit_retention() -> TestResult {
    let tag = format!("retention-{}", unique_suffix());
    let mut db = superuser();
    for months in [19, 17] {
        db.execute(
            "insert into public.audit_log (action, target_table, target_id, details, created_at)
             values ('update', 'e2e', $1, '{}', now() - make_interval(months => $2))",
            &[&format!("{tag}-{months}"), &months],
        )
        .unwrap();
    }
    let refused = db.execute(
        "delete from public.audit_log where target_id = $1",
        &[&format!("{tag}-17")],
    );
    check!(
        refused
            .is_err_and(|e| e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)),
        "the trail is append-only outside the purge"
    );
    let runs_before = count(
        "select count(*) from public.cron_runs where job = 'purge_audit_log'",
        &[],
    );
    run_cron()?;
    let left = |months: i32| {
        count(
            "select count(*) from public.audit_log where target_id = $1",
            &[&format!("{tag}-{months}")],
        )
    };
    check!(left(19) == 0, "the 19-month-old entry is purged");
    check!(left(17) == 1, "the 17-month-old entry is kept");
    check!(
        count(
            "select count(*) from public.cron_runs where job = 'purge_audit_log'",
            &[]
        ) == runs_before + 1,
        "the run is recorded"
    );
    Ok(())
}

fn rate_limit_window_retention() -> TestResult {
    let subject = format!("e2e-{}", unique_suffix());
    let mut db = superuser();
    for (bucket, age_hours) in [("old", 72), ("current", 0)] {
        db.execute(
            "insert into public.rate_limit_counters (subject_kind, subject, bucket, window_start)
             values ('ip', $1, $2, now() - make_interval(hours => $3))",
            &[&subject, &bucket, &age_hours],
        )
        .unwrap();
    }
    run_cron()?;
    let left: Vec<String> = db
        .query(
            "select bucket from public.rate_limit_counters where subject = $1",
            &[&subject],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    check!(left == ["current"], "windows left: {left:?}");
    Ok(())
}
