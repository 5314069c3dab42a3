//! The security lints in `sql/lints`: one catalog query per file, each returning rows
//! `(lint, object, detail)`. An empty result is a clean database; `ci/test` fails on any row.
//!
//! The queries read only the catalog, so they judge whatever schema is migrated. Two parameters
//! scope them: `$1` the schemas PostgREST exposes, `$2` the schemas the project owns.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use postgres::types::Type;
use postgres::GenericClient;

/// The schemas PostgREST serves (Supabase's `db-schemas` for this project).
pub const EXPOSED_SCHEMAS: &[&str] = &["public"];
/// The schemas whose functions and tables the project creates (auth: only where we create the
/// helpers ourselves; the lints leave Supabase's own auth objects alone).
pub const PROJECT_SCHEMAS: &[&str] = &["public", "private", "auth"];

/// One lint: its name is its file's name, and every row it returns must carry that name.
#[derive(Debug, Clone)]
pub struct Lint {
    pub name: String,
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub lint: String,
    pub object: String,
    pub detail: String,
}

#[derive(Debug)]
pub enum LintError {
    Io(PathBuf, std::io::Error),
    /// A lint file that does not say why it exists, or reports under another lint's name.
    Malformed(String),
    Db(String, postgres::Error),
}

impl std::fmt::Display for LintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LintError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            LintError::Malformed(why) => f.write_str(why),
            LintError::Db(lint, e) => write!(f, "lint {lint} failed to run: {e:?}"),
        }
    }
}

impl std::error::Error for LintError {}

/// `sql/lints` in this repository.
pub fn lints_dir() -> PathBuf {
    // The run-time value, not env!(): see CARGO_TARGET_DIR in ci/lib.sh.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../../sql/lints")
}

/// Every `*.sql` file in `dir`, in name order. Each must open with a `-- Why:` comment.
pub fn load_lints(dir: &Path) -> Result<Vec<Lint>, LintError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LintError::Io(dir.into(), e))?;
    let mut lints = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| LintError::Io(dir.into(), e))?.path();
        if path.extension().is_none_or(|ext| ext != "sql") {
            continue;
        }
        let sql = std::fs::read_to_string(&path).map_err(|e| LintError::Io(path.clone(), e))?;
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or_else(|| LintError::Malformed(format!("{}: not a UTF-8 name", path.display())))?
            .to_owned();
        if !sql.starts_with("-- Why:") {
            return Err(LintError::Malformed(format!(
                "{}: a lint opens with a `-- Why:` comment",
                path.display()
            )));
        }
        lints.push(Lint { name, sql });
    }
    lints.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(lints)
}

/// Runs every lint on `client` (a connection or an open transaction), in name order.
/// `search_path` is emptied for the duration so object names in the details are always
/// schema-qualified, whatever the session had.
pub fn run_lints(
    client: &mut impl GenericClient,
    lints: &[Lint],
) -> Result<Vec<Finding>, LintError> {
    let mut tx = client
        .transaction()
        .map_err(|e| LintError::Db("(begin)".into(), e))?;
    tx.batch_execute("set local search_path = ''")
        .map_err(|e| LintError::Db("(search_path)".into(), e))?;
    let mut findings = Vec::new();
    for lint in lints {
        let rows = tx
            .query_typed(
                &lint.sql,
                &[
                    (&EXPOSED_SCHEMAS, Type::TEXT_ARRAY),
                    (&PROJECT_SCHEMAS, Type::TEXT_ARRAY),
                ],
            )
            .map_err(|e| LintError::Db(lint.name.clone(), e))?;
        for row in rows {
            let finding = Finding {
                lint: row
                    .try_get(0)
                    .map_err(|e| LintError::Db(lint.name.clone(), e))?,
                object: row
                    .try_get(1)
                    .map_err(|e| LintError::Db(lint.name.clone(), e))?,
                detail: row
                    .try_get(2)
                    .map_err(|e| LintError::Db(lint.name.clone(), e))?,
            };
            if finding.lint != lint.name {
                return Err(LintError::Malformed(format!(
                    "{}.sql reports its rows as `{}`",
                    lint.name, finding.lint
                )));
            }
            findings.push(finding);
        }
    }
    // Read-only by construction; rolling back keeps it so even if a lint were not.
    tx.rollback()
        .map_err(|e| LintError::Db("(rollback)".into(), e))?;
    Ok(findings)
}

/// The findings as a plain-text table (lint | object | detail), for CI logs.
pub fn findings_table(findings: &[Finding]) -> String {
    let headers = ["lint", "object", "detail"];
    let cells = |f: &Finding| [f.lint.clone(), f.object.clone(), f.detail.clone()];
    let mut widths = headers.map(str::len);
    for finding in findings {
        for (width, cell) in widths.iter_mut().zip(cells(finding)) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: [String; 3]| {
        let padded: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join(" | ").trim_end());
    };
    line(headers.map(String::from));
    line(widths.map(|w| "-".repeat(w)));
    for finding in findings {
        line(cells(finding));
    }
    out
}
