//! Each lint catches the defect it exists for, and only that lint does.
//!
//! One scratch database is created and migrated with `ci/migrate` (the real migrations, whatever
//! they are today); each case opens a transaction there, plants exactly one defect, runs every
//! lint and rolls back, so cases run side by side without seeing each other's objects. Roles are
//! cluster-wide and already exist (ci/test migrated the main database first).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};
use postgres::{Client, NoTls};
use sql_checks::{findings_table, lints_dir, load_lints, run_lints, Finding, Lint};

/// A defect to plant and what it must produce: `(lint, object)` pairs, nothing else.
struct Case {
    name: &'static str,
    plant: String,
    expected: Vec<(&'static str, &'static str)>,
}

/// A table that passes every lint: RLS enabled and forced, readable by authenticated only.
fn clean_table(name: &str) -> String {
    format!(
        "create table public.{name} (id int primary key, owner uuid not null);
         alter table public.{name} enable row level security;
         alter table public.{name} force row level security;
         grant select on public.{name} to authenticated;"
    )
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "rls_disabled_in_public",
            plant: "create table public.planted_open (id int);
                    grant select on public.planted_open to anon;"
                .into(),
            expected: vec![("rls_disabled_in_public", "public.planted_open")],
        },
        Case {
            name: "rls_enabled_not_forced",
            plant: "create table public.planted_unforced (id int);
                    alter table public.planted_unforced enable row level security;"
                .into(),
            expected: vec![("rls_enabled_not_forced", "public.planted_unforced")],
        },
        Case {
            name: "policy_exists_rls_disabled",
            // In `private`, so the table's RLS being off is not also an exposed-table finding.
            plant: "create table private.planted_policy_ignored (owner uuid);
                    create policy planted_owner on private.planted_policy_ignored
                      for select to authenticated using (owner = (select auth.uid()));"
                .into(),
            expected: vec![("policy_exists_rls_disabled", "private.planted_policy_ignored")],
        },
        Case {
            name: "security_definer_view",
            plant: "create view public.planted_view as select id, body from public.notes;
                    grant select on public.planted_view to authenticated;"
                .into(),
            expected: vec![("security_definer_view", "public.planted_view")],
        },
        Case {
            name: "materialized_view_in_api",
            plant: "create materialized view public.planted_matview as
                      select id, body from public.notes with no data;
                    grant select on public.planted_matview to authenticated;"
                .into(),
            expected: vec![("materialized_view_in_api", "public.planted_matview")],
        },
        Case {
            name: "foreign_table_in_api",
            plant: "create foreign data wrapper planted_fdw;
                    create server planted_server foreign data wrapper planted_fdw;
                    create foreign table public.planted_foreign (id int) server planted_server;
                    grant select on public.planted_foreign to anon;"
                .into(),
            expected: vec![("foreign_table_in_api", "public.planted_foreign")],
        },
        Case {
            name: "function_search_path_mutable",
            plant: "create function private.planted_mutable(n int) returns int
                      language sql stable as 'select n + 1';"
                .into(),
            expected: vec![(
                "function_search_path_mutable",
                "private.planted_mutable(n integer)",
            )],
        },
        Case {
            name: "security_definer_function_executable",
            // PUBLIC counts: the grant anon and authenticated get by default unless revoked.
            plant: "create function public.planted_definer() returns bigint
                      language sql security definer set search_path = ''
                      as 'select count(*) from public.notes';
                    grant execute on function public.planted_definer() to public;"
                .into(),
            expected: vec![(
                "security_definer_function_executable",
                "public.planted_definer()",
            )],
        },
        Case {
            name: "rls_references_user_metadata",
            plant: clean_table("planted_metadata")
                + "create policy planted_team_from_metadata on public.planted_metadata
                     for select to authenticated
                     using (((select auth.jwt()) -> 'user_metadata' ->> 'team') = 'blue');",
            expected: vec![(
                "rls_references_user_metadata",
                "planted_team_from_metadata on public.planted_metadata",
            )],
        },
        Case {
            name: "rls_policy_always_true",
            plant: clean_table("planted_always_true")
                + "grant update on public.planted_always_true to authenticated;
                   create policy planted_anyone_updates on public.planted_always_true
                     for update to authenticated using (true);",
            expected: vec![(
                "rls_policy_always_true",
                "planted_anyone_updates on public.planted_always_true",
            )],
        },
        Case {
            name: "auth_rls_initplan",
            plant: clean_table("planted_per_row")
                + "create policy planted_owner_per_row on public.planted_per_row
                     for select to authenticated using (owner = auth.uid());",
            expected: vec![(
                "auth_rls_initplan",
                "planted_owner_per_row on public.planted_per_row",
            )],
        },
        Case {
            name: "policy_without_role",
            plant: clean_table("planted_public_policy")
                + "create policy planted_for_everyone on public.planted_public_policy
                     for select using (owner = (select auth.uid()));",
            expected: vec![(
                "policy_without_role",
                "planted_for_everyone on public.planted_public_policy",
            )],
        },
        Case {
            name: "api_role_dangerous_table_privilege",
            plant: clean_table("planted_truncatable")
                + "grant truncate on public.planted_truncatable to authenticated;",
            expected: vec![(
                "api_role_dangerous_table_privilege",
                "public.planted_truncatable",
            )],
        },
        Case {
            name: "api_role_dangerous_table_privilege_service_role",
            plant: "grant trigger, references on public.webhook_events to service_role;".into(),
            expected: vec![(
                "api_role_dangerous_table_privilege",
                "public.webhook_events",
            )],
        },
        Case {
            // A table the attack matrix covers (tagged) that neither the account export nor the
            // account purge would know of.
            name: "account_data_rule_missing",
            plant: clean_table("planted_unexported")
                + "comment on table public.planted_unexported is
                     'rls-matrix: tenant=none select=authenticated insert=none update=none delete=none truncate=none';",
            expected: vec![("account_data_rule_missing", "public.planted_unexported")],
        },
        Case {
            // The correct form of each defect above: none of them may be reported.
            name: "near_misses_are_not_findings",
            plant: clean_table("near_miss")
                + "create policy near_miss_wrapped on public.near_miss for select to authenticated
                     using (owner = (select auth.uid())
                            and ((select auth.jwt()) -> 'app_metadata' ->> 'tier') = 'pro'
                            and (select current_setting('request.method', true)) = 'GET'
                            and '(auth.uid()' <> 'x');
                   create policy near_miss_restrictive on public.near_miss as restrictive
                     for update to authenticated using (true);
                   create view public.near_miss_view with (security_invoker = true)
                     as select id, body from public.notes;
                   grant select on public.near_miss_view to authenticated;
                   create function public.near_miss_definer() returns int
                     language sql security definer set search_path = '' as 'select 1';
                   revoke execute on function public.near_miss_definer() from public, anon, authenticated;
                   grant execute on function public.near_miss_definer() to service_role;
                   create table private.near_miss_internal (id int);
                   comment on table public.near_miss is 'rls-matrix: tenant=none select=authenticated';
                   select private.account_data_rule('public.near_miss', 'delete', '{owner}');",
            expected: vec![],
        },
    ]
}

fn superuser_url() -> String {
    std::env::var("RLS_EDGE_SUPERUSER_URL")
        .expect("RLS_EDGE_SUPERUSER_URL is not set: run these tests through ci/test")
}

/// The same server and credentials, another database (ci's URLs end in `/<database>`).
fn url_for_database(url: &str, database: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{database}")
}

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).expect("the local cluster is up (ci/test starts it)")
}

/// Creates `database` afresh and applies sql/migrations to it with ci/migrate.
fn migrate_scratch_database(admin_url: &str, database: &str) -> String {
    let mut admin = connect(admin_url);
    // Two statements: DROP/CREATE DATABASE refuse to share an implicit transaction.
    for statement in [
        format!("drop database if exists {database} with (force)"),
        format!("create database {database}"),
    ] {
        admin
            .batch_execute(&statement)
            .expect("create the scratch database");
    }
    let url = url_for_database(admin_url, database);
    // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
    let migrate = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../../ci/migrate");
    let output = Command::new(migrate)
        .env("DATABASE_URL", &url)
        .output()
        .expect("run ci/migrate");
    assert!(
        output.status.success(),
        "ci/migrate failed on the scratch database: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    url
}

fn found(findings: &[Finding]) -> Vec<(String, String)> {
    findings
        .iter()
        .map(|f| (f.lint.clone(), f.object.clone()))
        .collect()
}

fn plant_and_lint(url: &str, lints: &[Lint], case: &Case) -> Result<(), Failed> {
    let mut client = connect(url);
    let mut tx = client.transaction().map_err(|e| format!("begin: {e}"))?;
    tx.batch_execute(&case.plant)
        .map_err(|e| format!("planting the defect failed: {e:?}"))?;
    let findings = run_lints(&mut tx, lints).map_err(|e| e.to_string())?;
    tx.rollback().map_err(|e| format!("rollback: {e}"))?;
    let expected: Vec<(String, String)> = case
        .expected
        .iter()
        .map(|(lint, object)| (lint.to_string(), object.to_string()))
        .collect();
    if found(&findings) != expected {
        return Err(format!(
            "expected exactly {expected:?}, the lints reported:\n{}",
            findings_table(&findings)
        )
        .into());
    }
    Ok(())
}

fn no_findings(url: &str, lints: &[Lint]) -> Result<(), Failed> {
    let findings = run_lints(&mut connect(url), lints).map_err(|e| e.to_string())?;
    if findings.is_empty() {
        Ok(())
    } else {
        Err(format!("findings:\n{}", findings_table(&findings)).into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let lints = load_lints(&lints_dir()).expect("sql/lints loads");
    let admin_url = superuser_url();
    let scratch = format!("sql_lints_scratch_{}", std::process::id());
    let scratch_url = migrate_scratch_database(&admin_url, &scratch);

    let mut trials = Vec::new();
    {
        let (lints, url) = (lints.clone(), scratch_url.clone());
        trials.push(Trial::test(
            "freshly_migrated_database_has_no_findings",
            move || no_findings(&url, &lints),
        ));
    }
    {
        let (lints, url) = (lints.clone(), admin_url.clone());
        trials.push(Trial::test("the_ci_database_has_no_findings", move || {
            no_findings(&url, &lints)
        }));
    }
    {
        let lint_names: BTreeSet<String> = lints.iter().map(|l| l.name.clone()).collect();
        let covered: BTreeSet<String> = cases()
            .iter()
            .flat_map(|c| c.expected.iter().map(|(lint, _)| lint.to_string()))
            .collect();
        trials.push(Trial::test("every_lint_has_a_planted_defect", move || {
            if lint_names == covered {
                Ok(())
            } else {
                Err(format!("lints {lint_names:?}, planted cases cover {covered:?}").into())
            }
        }));
    }
    for case in cases() {
        let (lints, url) = (lints.clone(), scratch_url.clone());
        trials.push(Trial::test(format!("planted::{}", case.name), move || {
            plant_and_lint(&url, &lints, &case)
        }));
    }

    let conclusion = libtest_mimic::run(&args, trials);
    connect(&admin_url)
        .batch_execute(&format!("drop database if exists {scratch} with (force)"))
        .expect("drop the scratch database");
    conclusion.exit();
}
