//! What a run found, and the summary the test prints.

use std::fmt;

use crate::attempt::Outcome;
use crate::cast::Attacker;
use crate::catalog::{Classification, Target, Unclassified, Victim};
use crate::tags::Command;

/// One attempt worth reporting: who did what to which row, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub table: String,
    pub command: Command,
    pub actor: String,
    pub row: String,
    pub outcome: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} by {} on {}: {}",
            self.table, self.command, self.actor, self.row, self.outcome
        )
    }
}

#[derive(Debug, Default)]
pub struct Report {
    /// Covered tables with their number of victim rows.
    pub tables: Vec<(String, usize)>,
    pub attackers: usize,
    /// Attacker attempts made, and how many were denied.
    pub attempts: usize,
    pub denied: usize,
    /// (row, command, attacker) cells the tag allows: no attack, the access is legitimate.
    pub legitimate: usize,
    pub controls_passed: usize,
    /// Attacks that went through.
    pub leaks: Vec<Finding>,
    /// Attacks that ended in an error other than 42501: neither a denial nor proven harmless.
    pub unexpected: Vec<Finding>,
    /// Legitimate accesses that did not succeed: the tag or the attempt is wrong.
    pub failed_controls: Vec<Finding>,
    pub unclassified: Vec<Unclassified>,
    pub cast_problems: Vec<String>,
}

impl Report {
    pub(crate) fn new(classification: &Classification, attackers: usize) -> Self {
        Report {
            tables: classification
                .targets
                .iter()
                .map(|t| (t.table.name.clone(), t.victims.len()))
                .collect(),
            attackers,
            unclassified: classification.unclassified.clone(),
            ..Report::default()
        }
    }

    /// Counts an attack as denied or, otherwise, as a leak (the access went through) or an
    /// unexpected error.
    pub(crate) fn record_attack(
        &mut self,
        target: &Target,
        command: Command,
        attacker: Attacker,
        victim: &Victim,
        outcome: Outcome,
    ) {
        self.attempts += 1;
        if outcome.is_denial(command) {
            self.denied += 1;
            return;
        }
        let finding = Finding {
            table: target.table.name.clone(),
            command,
            actor: attacker.as_str().to_owned(),
            row: victim.key.clone(),
            outcome: outcome.to_string(),
        };
        if outcome.is_success(command) {
            self.leaks.push(finding);
        } else {
            self.unexpected.push(finding);
        }
    }

    /// tables × commands × attackers.
    pub fn size(&self) -> usize {
        self.tables.len() * Command::ALL.len() * self.attackers
    }

    /// No leak, nothing unexplained, every control succeeded, every table classified.
    pub fn passed(&self) -> bool {
        self.attempts > 0
            && self.leaks.is_empty()
            && self.unexpected.is_empty()
            && self.failed_controls.is_empty()
            && self.unclassified.is_empty()
            && self.cast_problems.is_empty()
    }

    pub fn has_leak(&self, table: &str, command: Command, attacker: &str) -> bool {
        Self::names(&self.leaks, table, command, attacker)
    }

    /// A leak, or an error other than 42501: the attempt got past the grants and the policies.
    pub fn was_not_denied(&self, table: &str, command: Command, attacker: &str) -> bool {
        self.has_leak(table, command, attacker)
            || Self::names(&self.unexpected, table, command, attacker)
    }

    fn names(findings: &[Finding], table: &str, command: Command, actor: &str) -> bool {
        findings
            .iter()
            .any(|f| f.table == table && f.command == command && f.actor == actor)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: usize = self.tables.iter().map(|(_, n)| n).sum();
        writeln!(
            f,
            "attack matrix: {} tables x {} commands x {} attackers = {} cells, over {rows} victim rows",
            self.tables.len(),
            Command::ALL.len(),
            self.attackers,
            self.size()
        )?;
        writeln!(
            f,
            "  {} attacks: {} denied, {} leaks, {} unexpected errors; {} allowed by the tags, {} controls passed, {} failed",
            self.attempts,
            self.denied,
            self.leaks.len(),
            self.unexpected.len(),
            self.legitimate,
            self.controls_passed,
            self.failed_controls.len()
        )?;
        let covered: Vec<String> = self
            .tables
            .iter()
            .map(|(name, rows)| format!("{name} ({rows})"))
            .collect();
        writeln!(f, "  tables: {}", covered.join(", "))?;
        for leak in &self.leaks {
            writeln!(f, "  LEAK {leak}")?;
        }
        for finding in &self.unexpected {
            writeln!(f, "  UNEXPECTED {finding}")?;
        }
        for finding in &self.failed_controls {
            writeln!(f, "  CONTROL FAILED {finding}")?;
        }
        for table in &self.unclassified {
            writeln!(f, "  UNCLASSIFIED {}: {}", table.table, table.reason)?;
        }
        for problem in &self.cast_problems {
            writeln!(f, "  CAST {problem}")?;
        }
        Ok(())
    }
}
