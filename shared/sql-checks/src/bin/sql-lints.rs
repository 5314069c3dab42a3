//! `DATABASE_URL=postgres://… sql-lints`: runs every lint in `sql/lints` against that database,
//! prints the findings as a table, and exits 1 if there is any (2 if the lints could not run).

use std::process::ExitCode;

use sql_checks::{findings_table, lints_dir, load_lints, run_lints};

fn main() -> ExitCode {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("set DATABASE_URL to the migrated database to lint");
        return ExitCode::from(2);
    };
    let outcome = (|| {
        let lints = load_lints(&lints_dir())?;
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .map_err(|e| sql_checks::LintError::Db("(connect)".into(), e))?;
        Ok::<_, sql_checks::LintError>((lints.len(), run_lints(&mut client, &lints)?))
    })();
    match outcome {
        Ok((count, findings)) if findings.is_empty() => {
            println!("sql-lints: {count} lints, 0 findings");
            ExitCode::SUCCESS
        }
        Ok((count, findings)) => {
            print!("{}", findings_table(&findings));
            println!("sql-lints: {count} lints, {} findings", findings.len());
            ExitCode::from(1)
        }
        Err(error) => {
            eprintln!("sql-lints: {error}");
            ExitCode::from(2)
        }
    }
}
