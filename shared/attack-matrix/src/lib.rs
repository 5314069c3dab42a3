//! The generated attack matrix: for EVERY table in a schema the API roles can use, every command
//! (select, insert, update, delete, truncate) and every attacker (anon, a user of another tenant,
//! a plain member, a removed member, anon holding an expired or a revoked share link), attempt the
//! access on each of a victim tenant's rows and require a denial: SQLSTATE 42501, or zero rows
//! where a policy's USING hides them. The legitimate actor's same access is the control: it must
//! succeed wherever the table's tag allows it, so a denial is never vacuous (a malformed attempt
//! fails its control). Nothing here lists tables: they come from the catalog, what each allows
//! from its `rls-matrix:` comment tag ([`tags`]), who is who from `attack_matrix.actors`
//! ([`cast`]). A table it cannot classify fails the run by name.
//!
//! Superuser connection: reads the catalog, the victim rows and builds the insert copies.
//! Authenticator connection: every attempt, as PostgREST would run it ([`attempt`]).

pub mod attempt;
pub mod cast;
pub mod catalog;
mod report;
pub mod scratch;
pub mod tags;

use std::collections::BTreeSet;

use serde_json::Value;
use tokio_postgres::Client;

pub use report::{Finding, Report};

use cast::{Attacker, Cast, Identity};
use catalog::{Classification, Target};
use tags::Command;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("cast: {0}")]
    Cast(String),
}

/// Reads the cast and classifies every exposed table.
pub async fn classify(superuser: &Client) -> Result<(Cast, Classification), SetupError> {
    let cast = Cast::load(superuser).await?;
    let classification = catalog::classify(superuser, &cast).await?;
    Ok((cast, classification))
}

/// Runs the whole matrix. Err only when the database or the cast cannot be read; every finding
/// about the schema is in the report.
pub async fn run(superuser: &Client, authenticator: &mut Client) -> Result<Report, SetupError> {
    let (cast, classification) = classify(superuser).await?;
    let mut report = Report::new(&classification, Attacker::ALL.len());
    let mut proven_users = BTreeSet::new();
    for target in &classification.targets {
        for (index, victim) in target.victims.iter().enumerate() {
            let class = &target.tag.classes[victim.class];
            for command in Command::ALL {
                let allowed = &class.allowed[&command];
                for principal in allowed {
                    let finding = |outcome: String| Finding {
                        table: target.table.name.clone(),
                        command,
                        actor: principal.to_string(),
                        row: victim.key.clone(),
                        outcome,
                    };
                    let identity = match cast.legitimate(principal, &victim.row) {
                        Ok(identity) => identity,
                        Err(reason) => {
                            report.failed_controls.push(finding(reason));
                            continue;
                        }
                    };
                    let outcome =
                        attempt::run(authenticator, &identity, target, command, index).await?;
                    if outcome.is_success(command) {
                        report.controls_passed += 1;
                        proven_users.extend(user_of(&identity));
                    } else {
                        report
                            .failed_controls
                            .push(finding(format!("{}: {outcome}", identity.label)));
                    }
                }
                for attacker in Attacker::ALL {
                    if attacker.is_allowed(allowed, &victim.row, &cast) {
                        report.legitimate += 1;
                        continue;
                    }
                    let identity = cast.attacker(attacker);
                    let outcome =
                        attempt::run(authenticator, &identity, target, command, index).await?;
                    report.record_attack(target, command, attacker, victim, outcome);
                }
            }
            if !row_is_addressable(superuser, target, index).await? {
                report.failed_controls.push(Finding {
                    table: target.table.name.clone(),
                    command: Command::Select,
                    actor: "superuser".into(),
                    row: victim.key.clone(),
                    outcome: "the primary-key match does not find exactly this row".into(),
                });
            }
        }
    }
    for (name, user) in [("owner", &cast.owner), ("member", &cast.member)] {
        if !proven_users.contains(user.as_str()) {
            report.cast_problems.push(format!(
                "the {name} ({user}) passed no control: no tag grants it anything, or it is not really the victim tenant's {name}"
            ));
        }
    }
    Ok(report)
}

fn user_of(identity: &Identity) -> Option<String> {
    identity
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The superuser (who bypasses RLS) finds exactly the victim row with the attempts' key match:
/// a zero-row denial is then a real denial even where no API role may touch the table.
async fn row_is_addressable(
    superuser: &Client,
    target: &Target,
    victim: usize,
) -> Result<bool, SetupError> {
    let (sql, row) = attempt::statement(target, Command::Select, victim);
    let rows = superuser.query(&sql, &[&row]).await?;
    Ok(rows.len() == 1)
}
