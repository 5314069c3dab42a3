//! `cargo run -p audit [repo-root]`: prints every function's guards and routes as a Markdown
//! table; exits 1 (listing why) when a function is undeclared, unguarded, bypasses its
//! declaration, declares a public route without a reason, or its schedules disagree with
//! wrangler.toml.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
                .join("../..")
        });
    let report = audit::audit(&root);
    print!("{}", report.table());
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
