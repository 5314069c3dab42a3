//! The attack matrix over the real schema (sql/migrations) and fixtures (sql/tests/fixtures), each
//! scenario in its own scratch database on the project's Postgres (ci/test starts it and sets
//! RLS_EDGE_SUPERUSER_URL and RLS_EDGE_AUTHENTICATOR_URL). The first test is the matrix itself;
//! the others weaken the schema the way real mistakes do and require the matrix to catch it. They
//! pick the table to weaken from the catalog, so they keep working as the schema changes.
//! What each table allows comes from its `rls-matrix:` comment tag, written beside the table in its
//! own migration (grammar: src/tags.rs); who is who from attack_matrix.actors
//! (sql/tests/fixtures/attack_matrix_cast.sql).

use attack_matrix::catalog::{Classification, Target};
use attack_matrix::scratch::ScratchDatabase;
use attack_matrix::tags::{Command, Principal, Tenant};
use attack_matrix::{classify, run, Report};
use tokio_postgres::Client;

const OUTSIDER: &str = "user of another tenant";

async fn matrix(database: &ScratchDatabase) -> Report {
    let superuser = database.superuser().await;
    let mut authenticator = database.authenticator().await;
    run(&superuser, &mut authenticator)
        .await
        .expect("the matrix can read the catalog and the cast")
}

#[tokio::test]
async fn every_exposed_table_denies_every_attacker_while_the_legitimate_access_succeeds() {
    let database = ScratchDatabase::create("baseline");
    let report = matrix(&database).await;
    println!("{report}");
    assert!(report.passed(), "{report}");
    assert!(report.leaks.is_empty());
    assert!(report.attempts > 0 && report.denied == report.attempts);
}

/// Commands `authenticated` holds a privilege for on the table, on the whole table or on some of
/// its columns (the tenancy schema grants INSERT and UPDATE column by column).
async fn granted_to_authenticated(superuser: &Client, table: &str) -> Vec<Command> {
    let mut granted = Vec::new();
    for command in Command::ALL {
        let row = superuser
            .query_one(
                "select has_table_privilege('authenticated', $1::text::regclass, $2)
                     or ($2 in ('select', 'insert', 'update')
                         and has_any_column_privilege('authenticated', $1::text::regclass, $2))",
                &[&table, &command.as_str()],
            )
            .await
            .unwrap();
        if row.get(0) {
            granted.push(command);
        }
    }
    granted
}

fn allowed_to_everyone(target: &Target, command: Command) -> bool {
    target.tag.classes.iter().any(|class| {
        class.allowed[&command]
            .iter()
            .any(|p| matches!(p, Principal::Anon | Principal::Authenticated))
    })
}

/// The tenant table `authenticated` holds the most privileges on (memberships today): the one a
/// weakened policy would expose most. `unreferenced`: only tables no foreign key points to (a
/// TRUNCATE of those succeeds without CASCADE).
async fn most_exposed_tenant_table(
    superuser: &Client,
    classification: &Classification,
    unreferenced: bool,
) -> (String, Vec<Command>) {
    let mut best: Option<(String, Vec<Command>)> = None;
    for target in &classification.targets {
        let name = &target.table.name;
        let referenced: bool = superuser
            .query_one(
                "select exists (select 1 from pg_constraint where contype = 'f' and confrelid = $1::text::regclass)",
                &[name],
            )
            .await
            .unwrap()
            .get(0);
        if target.tag.tenant == Tenant::None
            || allowed_to_everyone(target, Command::Select)
            || (unreferenced && referenced)
        {
            continue;
        }
        let granted = granted_to_authenticated(superuser, name).await;
        if !granted.contains(&Command::Select) {
            continue;
        }
        if best.as_ref().is_none_or(|(_, b)| granted.len() > b.len()) {
            best = Some((name.clone(), granted));
        }
    }
    best.expect("the schema has a tenant table signed-in users may read")
}

async fn weakened(
    label: &str,
    weaken: impl Fn(&str) -> String,
    unreferenced: bool,
) -> (String, Vec<Command>, Report) {
    let database = ScratchDatabase::create(label);
    let superuser = database.superuser().await;
    let (_, classification) = classify(&superuser).await.unwrap();
    let (table, granted) =
        most_exposed_tenant_table(&superuser, &classification, unreferenced).await;
    println!("{label}: weakened {table} (authenticated holds {granted:?} on it)");
    superuser.batch_execute(&weaken(&table)).await.unwrap();
    let report = matrix(&database).await;
    assert!(
        !report.passed(),
        "{label} on {table} must fail the matrix:\n{report}"
    );
    (table, granted, report)
}

#[tokio::test]
async fn a_select_policy_open_to_every_signed_in_user_is_reported_as_a_leak() {
    let (table, _, report) = weakened(
        "open_select",
        |t| format!("create policy attack_matrix_weakened on {t} for select to authenticated using (true)"),
        false,
    )
    .await;
    assert!(
        report.has_leak(&table, Command::Select, OUTSIDER),
        "{report}"
    );
    assert!(
        report.has_leak(&table, Command::Select, "removed member"),
        "{report}"
    );
}

#[tokio::test]
async fn truncate_granted_to_signed_in_users_is_reported_as_a_leak() {
    let (table, _, report) = weakened(
        "truncate",
        |t| format!("grant truncate on {t} to authenticated"),
        true,
    )
    .await;
    for attacker in [OUTSIDER, "plain member", "removed member"] {
        assert!(
            report.has_leak(&table, Command::Truncate, attacker),
            "{attacker}: {report}"
        );
    }
    assert!(
        !report.has_leak(&table, Command::Truncate, "anon"),
        "anon holds no grant: {report}"
    );
}

#[tokio::test]
async fn row_level_security_switched_off_is_reported_as_a_leak_for_every_granted_command() {
    let (table, granted, report) = weakened(
        "rls_off",
        |t| format!("alter table {t} no force row level security, disable row level security"),
        false,
    )
    .await;
    assert!(
        report.has_leak(&table, Command::Select, OUTSIDER),
        "{report}"
    );
    // A write may still hit a trigger or a constraint once past the grants and policies.
    for command in granted.into_iter().filter(|c| *c != Command::Truncate) {
        assert!(
            report.was_not_denied(&table, command, OUTSIDER),
            "{command}: {report}"
        );
    }
}

#[tokio::test]
async fn a_legitimate_access_that_fails_fails_the_matrix() {
    // A tag that claims more than the grants give: the owner's TRUNCATE is refused, so the
    // control fails. The same happens when an attempt is malformed: a denial is never vacuous.
    let (table, _, report) = weakened(
        "lying_tag",
        |t| {
            format!(
                "do $$ begin execute format('comment on table {t} is %L',
                   regexp_replace(obj_description('{t}'::regclass, 'pg_class'), 'truncate=\\S+', 'truncate=owner', 'g')); end $$"
            )
        },
        false,
    )
    .await;
    assert!(report.leaks.is_empty(), "{report}");
    assert!(
        report
            .failed_controls
            .iter()
            .any(|f| f.table == table && f.command == Command::Truncate && f.actor == "owner"),
        "{report}"
    );
}

/// Untagged (in public and in another schema the API roles may use), tagged but without victim
/// rows, without a primary key: each fails the matrix, by name.
#[tokio::test]
async fn an_exposed_table_the_matrix_cannot_classify_fails_it_by_name() {
    let database = ScratchDatabase::create("unclassified");
    let superuser = database.superuser().await;
    superuser
        .batch_execute(
            "create table public.attack_matrix_untagged (id uuid primary key, workspace_id uuid);
             create schema attack_matrix_exposed;
             grant usage on schema attack_matrix_exposed to authenticated;
             create table attack_matrix_exposed.untagged (id uuid primary key);
             create table public.attack_matrix_no_victim_rows (id uuid primary key, workspace_id uuid, body text);
             comment on table public.attack_matrix_no_victim_rows is
               'rls-matrix: tenant=workspace_id select=member insert=none update=none delete=none truncate=none';
             create table public.attack_matrix_no_key (workspace_id uuid);
             comment on table public.attack_matrix_no_key is 'rls-matrix: service-only tenant=workspace_id';",
        )
        .await
        .unwrap();
    let report = matrix(&database).await;
    assert!(!report.passed(), "{report}");
    let mut found: Vec<(&str, &str)> = report
        .unclassified
        .iter()
        .map(|u| (u.table.as_str(), u.reason.as_str()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "attack_matrix_exposed.untagged",
                "tag: no `rls-matrix:` line in the table comment"
            ),
            (
                "public.attack_matrix_no_key",
                "no primary key to address its rows by"
            ),
            (
                "public.attack_matrix_no_victim_rows",
                "the fixture has no rows of the victim tenant in it"
            ),
            (
                "public.attack_matrix_untagged",
                "tag: no `rls-matrix:` line in the table comment"
            ),
        ]
    );
    assert!(
        report.leaks.is_empty() && report.failed_controls.is_empty(),
        "{report}"
    );
}
