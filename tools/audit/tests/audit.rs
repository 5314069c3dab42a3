//! The audit against a copy of this repository's functions: clean as committed, and failing for
//! each way a function can escape its guard.

use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

/// A temporary copy of what the audit reads: the root wrangler.toml and every function's
/// wrangler.toml, Cargo.toml and sources.
fn copy_of_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        repo().join("wrangler.toml"),
        dir.path().join("wrangler.toml"),
    )
    .unwrap();
    for entry in fs::read_dir(repo().join("functions")).unwrap().flatten() {
        let target = dir.path().join("functions").join(entry.file_name());
        copy_tree(&entry.path(), &target);
    }
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name == "build" || name == ".dev.vars" {
            continue;
        }
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &to.join(name));
        } else {
            fs::copy(entry.path(), to.join(name)).unwrap();
        }
    }
}

fn plant(root: &Path, function: &str, wrangler: Option<&str>, lib: &str) {
    let dir = root.join("functions").join(function);
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(dir.join("Cargo.toml"), "[package]\nname = \"planted\"\n").unwrap();
    if let Some(wrangler) = wrangler {
        fs::write(dir.join("wrangler.toml"), wrangler).unwrap();
    }
    fs::write(dir.join("src/lib.rs"), lib).unwrap();
}

fn problems(root: &Path) -> Vec<String> {
    audit::audit(root).problems
}

const WRANGLER: &str = "name = \"planted\"\nmain = \"build/index.js\"\n\
    [[durable_objects.bindings]]\nname = \"RATE_LIMITER\"\nclass_name = \"RateLimiter\"\n\
    script_name = \"rate-limiter\"\n";

#[test]
fn the_committed_functions_pass_and_every_one_is_listed() {
    let report = audit::audit(&repo());
    assert_eq!(report.problems, Vec::<String>::new());
    let functions: std::collections::BTreeSet<&str> =
        report.rows.iter().map(|r| r.function.as_str()).collect();
    for name in ["gateway", "notes", "paddle-webhook", "cron-retention"] {
        assert!(
            functions.contains(name),
            "{name} missing from {functions:?}"
        );
    }
    assert!(report
        .table()
        .contains("| cron-retention | scheduled event (platform) | cron `17 3 * * *` |"));
}

#[test]
fn a_planted_function_without_a_declaration_fails() {
    let root = copy_of_repo();
    plant(
        root.path(),
        "unguarded",
        Some(WRANGLER),
        "use worker::*;\n#[event(fetch)]\nasync fn fetch(_r: Request, _e: Env, _c: Context) -> Result<Response> { Response::ok(\"open\") }\n",
    );
    let problems = problems(root.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("planted: no edge_adapter::serve!")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("#[event] entry point outside serve!")),
        "{problems:?}"
    );
}

#[test]
fn a_hand_written_entry_point_beside_the_declaration_fails() {
    let root = copy_of_repo();
    let notes = root.path().join("functions/notes/src/lib.rs");
    let mut source = fs::read_to_string(&notes).unwrap();
    source += "\nmod backdoor {\n    #[worker::event(scheduled)]\n    async fn scheduled(_e: worker::ScheduledEvent, _env: worker::Env, _c: worker::ScheduleContext) {}\n}\n";
    fs::write(&notes, source).unwrap();
    let problems = problems(root.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("fn scheduled is an #[event] entry point")),
        "{problems:?}"
    );
}

#[test]
fn a_public_route_without_a_reason_fails() {
    let root = copy_of_repo();
    for (name, guard) in [
        ("blank", "public(\"  \")"),
        ("bare", "public"),
        ("short", "public(\"because\")"),
    ] {
        plant(
            root.path(),
            name,
            Some(&WRANGLER.replace("planted", name)),
            &format!("edge_adapter::serve! {{ routes {{ GET \"/functions/v1/{name}\" => {guard} => open, }} }}\n"),
        );
    }
    let problems = problems(root.path());
    for name in ["blank", "bare", "short"] {
        assert!(
            problems.iter().any(|p| p.starts_with(&format!(
                "{name}: public route GET /functions/v1/{name} has no written reason"
            ))),
            "{name}: {problems:?}"
        );
    }
}

#[test]
fn schedules_must_match_wrangler_crons() {
    let root = copy_of_repo();
    let config = root.path().join("functions/cron-retention/wrangler.toml");
    let text = fs::read_to_string(&config)
        .unwrap()
        .replace("17 3 * * *", "0 * * * *");
    fs::write(&config, text).unwrap();
    let problems = problems(root.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("triggers cron \"0 * * * *\", which serve! does not declare")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("declares schedule \"17 3 * * *\", missing from wrangler.toml")),
        "{problems:?}"
    );
}

#[test]
fn a_function_crate_without_wrangler_toml_is_reported() {
    let root = copy_of_repo();
    plant(root.path(), "hidden", None, "pub fn nothing() {}\n");
    let problems = problems(root.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("hidden: a function crate without a wrangler.toml")),
        "{problems:?}"
    );
}

#[test]
fn the_command_exits_non_zero_on_a_planted_function() {
    let root = copy_of_repo();
    plant(
        root.path(),
        "unguarded",
        Some(WRANGLER),
        "pub fn handler() {}\n",
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_audit"))
        .arg(root.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("| planted | **NONE** | undeclared |"),
        "{stdout}"
    );
    let clean = std::process::Command::new(env!("CARGO_BIN_EXE_audit"))
        .arg(repo())
        .output()
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
}

#[test]
fn the_readme_shows_the_current_table() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let table = audit::audit(&repo()).table();
    assert!(
        readme.contains(&table),
        "README.md's guard table is out of date: paste the output of `cargo run -p audit`:\n{table}"
    );
}

#[test]
fn every_function_lists_its_guards_secrets() {
    let lines = audit::audit(&repo()).secret_lines();
    for line in [
        "gateway\n",
        "meta-webhook META_APP_SECRETS META_VERIFY_TOKENS\n",
        "resend-webhook STANDARD_WEBHOOKS_SECRETS\n",
        "notes SUPABASE_JWT_SECRET\n",
    ] {
        assert!(lines.contains(line), "{line:?} missing from {lines}");
    }
}

#[test]
fn a_guard_without_a_secrets_entry_fails() {
    let root = copy_of_repo();
    plant(
        root.path(),
        "unknown-guard",
        Some(WRANGLER),
        "edge_adapter::serve! { routes { GET \"/x\" => oauth_client(\"read\") => handle, } }\n",
    );
    let problems = problems(root.path());
    assert!(
        problems
            .iter()
            .any(|p| p
                .contains("guard oauth_client has no entry in the audit's guard_secrets table")),
        "{problems:?}"
    );
}

#[test]
fn routes_without_the_rate_limiter_binding_fail() {
    let root = copy_of_repo();
    let config = root.path().join("functions/notes/wrangler.toml");
    let text = fs::read_to_string(&config)
        .unwrap()
        .replace("name = \"RATE_LIMITER\"", "name = \"SOMETHING_ELSE\"");
    fs::write(&config, text).unwrap();
    let problems = problems(root.path());
    assert_eq!(
        problems,
        ["notes: routes are rate limited, but wrangler.toml has no [[durable_objects.bindings]] RATE_LIMITER (class RateLimiter, script rate-limiter)"],
    );
}
