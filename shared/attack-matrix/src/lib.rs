//! The generated attack matrix: for EVERY table in a schema the API roles can use, every command
//! (select, insert, update, delete, truncate) and every attacker (anon, a user of another tenant,
//! a plain member, a removed member, an expired, a revoked or a valid share-link token, each sent
//! anonymously and by a signed-in user of another tenant, and API-key callers with a revoked, an
//! expired, another tenant's or a scope-less key), attempt the
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
use tags::{Command, Principal};

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
    let mut run = Run {
        report: Report::new(&classification, Attacker::ALL.len()),
        cast,
        authenticator,
        proven_users: BTreeSet::new(),
        share_proven: false,
        api_key_proven: false,
    };
    for target in &classification.targets {
        for (index, victim) in target.victims.iter().enumerate() {
            for command in Command::ALL {
                run.controls(target, command, index).await?;
                run.attacks(target, command, index).await?;
            }
            if !row_is_addressable(superuser, target, index).await? {
                run.report.failed_controls.push(Finding {
                    table: target.table.name.clone(),
                    command: Command::Select,
                    actor: "superuser".into(),
                    row: victim.key.clone(),
                    outcome: "the primary-key match does not find exactly this row".into(),
                });
            }
        }
    }
    run.check_cast_was_proven();
    Ok(run.report)
}

struct Run<'c> {
    report: Report,
    cast: Cast,
    authenticator: &'c mut Client,
    /// Users whose legitimate access succeeded at least once.
    proven_users: BTreeSet<String>,
    /// Whether a valid share-link token's legitimate access succeeded at least once.
    share_proven: bool,
    /// Whether the victim's live API key's legitimate access succeeded at least once.
    api_key_proven: bool,
}

impl Run<'_> {
    /// Every principal the tag allows the command to must succeed.
    async fn controls(
        &mut self,
        target: &Target,
        command: Command,
        index: usize,
    ) -> Result<(), SetupError> {
        let victim = &target.victims[index];
        for principal in &target.tag.classes[victim.class].allowed[&command] {
            let finding = |outcome: String| Finding {
                table: target.table.name.clone(),
                command,
                actor: principal.to_string(),
                row: victim.key.clone(),
                outcome,
            };
            let identities = match self.cast.legitimate(principal, &victim.row) {
                Ok(identities) => identities,
                Err(reason) => {
                    self.report.failed_controls.push(finding(reason));
                    continue;
                }
            };
            for identity in identities {
                let outcome =
                    attempt::run(self.authenticator, &identity, target, command, index).await?;
                if outcome.is_success(command) {
                    self.report.controls_passed += 1;
                    self.proven_users.extend(user_of(&identity));
                    match principal {
                        Principal::Share => self.share_proven = true,
                        Principal::ApiKey(_) => self.api_key_proven = true,
                        _ => {}
                    }
                } else {
                    let failure = format!("{}: {outcome}", identity.label);
                    self.report.failed_controls.push(finding(failure));
                }
            }
        }
        Ok(())
    }

    /// Every attacker the tag does not allow the command to must be denied.
    async fn attacks(
        &mut self,
        target: &Target,
        command: Command,
        index: usize,
    ) -> Result<(), SetupError> {
        let victim = &target.victims[index];
        let allowed = &target.tag.classes[victim.class].allowed[&command];
        for attacker in Attacker::ALL {
            if attacker.is_allowed(allowed, &victim.row, &self.cast) {
                self.report.legitimate += 1;
                continue;
            }
            let identity = self.cast.attacker(attacker);
            let outcome =
                attempt::run(self.authenticator, &identity, target, command, index).await?;
            self.report
                .record_attack(target, command, attacker, victim, outcome);
        }
        Ok(())
    }

    /// The owner and the member must each have succeeded somewhere, or the cast names users
    /// who are not what it says (and the "plain member" attacks would prove nothing); so must
    /// the valid share-link token, or its attacks would prove nothing either.
    fn check_cast_was_proven(&mut self) {
        if !self.share_proven {
            self.report.cast_problems.push(format!(
                "the valid share-link token passed no control: no tag grants `share` on the row it opens ({}), or it opens nothing",
                self.cast.shared_row_id
            ));
        }
        if !self.api_key_proven {
            self.report.cast_problems.push(format!(
                "the live API key ({}) passed no control: no tag grants `api_key:…`, or the key is not live",
                self.cast.api_key_valid
            ));
        }
        for (name, user) in [("owner", &self.cast.owner), ("member", &self.cast.member)] {
            if !self.proven_users.contains(user.as_str()) {
                self.report.cast_problems.push(format!(
                    "the {name} ({user}) passed no control: no tag grants it anything, or it is not really the victim tenant's {name}"
                ));
            }
        }
    }
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
