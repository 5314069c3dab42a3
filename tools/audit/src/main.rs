//! `cargo run -p audit [--secrets] [repo-root]`: prints every function's guards and routes as a
//! Markdown table (with `--secrets`: each function and the secrets its guards read, one line per
//! function, for ci/deploy); exits 1 (listing why) when a function is undeclared, unguarded, bypasses its
//! declaration, declares a public route without a reason, or its schedules disagree with
//! wrangler.toml.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    let list_secrets = args.first().is_some_and(|a| a == "--secrets");
    if list_secrets {
        args.remove(0);
    }
    let root = args
        .into_iter()
        .next()
        .map(PathBuf::from)
        // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
                .join("../..")
        });
    let report = audit::audit(&root);
    if list_secrets {
        print!("{}", report.secret_lines());
    } else {
        print!("{}", report.table());
    }
    if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("\nguard audit FAILED:");
        for problem in &report.problems {
            eprintln!("  - {problem}");
        }
        ExitCode::FAILURE
    }
}
