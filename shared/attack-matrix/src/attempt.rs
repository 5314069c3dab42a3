//! One access, as PostgREST would run it: its own transaction on the `authenticator` connection,
//! the identity switched with transaction-local `set_config` (role, `request.jwt.claims`,
//! `request.headers`, …), the statement, then ROLLBACK, so no attempt changes what the next sees.

use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, IsolationLevel};

use crate::cast::Identity;
use crate::catalog::{quote_ident, Target};
use crate::tags::Command;

/// PostgREST's per-request settings statement (see /work/shared/specs/supabase-rls.md), minus the
/// role's own settings such as statement_timeout, which change no access decision. The project's
/// data path (`rls_db::begin_as`) cannot be used here: it only accepts principals from the guard
/// crate, and an attacker with the anon key reaches PostgREST without any of our functions.
const IDENTITY_SQL: &str = "\
select set_config('search_path', '\"public\"', true),
       set_config('role', $1, true),
       set_config('request.jwt.claims', $2, true),
       set_config('request.method', $3, true),
       set_config('request.path', $4, true),
       set_config('request.headers', $5, true),
       set_config('request.cookies', '{}', true)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The statement ran: rows returned (select) or affected (insert, update, delete; 0 for
    /// truncate).
    Rows(u64),
    /// SQLSTATE 42501: a missing grant or a WITH CHECK.
    Refused,
    /// Any other error.
    Failed { sqlstate: String, message: String },
}

impl Outcome {
    /// A denial: 42501, or (where a policy's USING hides rows) zero rows.
    pub fn is_denial(&self, command: Command) -> bool {
        match self {
            Outcome::Refused => true,
            Outcome::Rows(0) => {
                matches!(command, Command::Select | Command::Update | Command::Delete)
            }
            _ => false,
        }
    }

    /// The access went through: the leak an attacker must never get, the success a legitimate
    /// actor must get.
    pub fn is_success(&self, command: Command) -> bool {
        match (self, command) {
            (Outcome::Rows(_), Command::Truncate) => true,
            (Outcome::Rows(n), _) => *n > 0,
            _ => false,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Rows(n) => write!(f, "succeeded ({n} rows)"),
            Outcome::Refused => f.write_str("42501"),
            Outcome::Failed { sqlstate, message } => write!(f, "{sqlstate}: {message}"),
        }
    }
}

/// The statement attacking `target` with `command`, and the JSON row it takes.
pub fn statement(target: &Target, command: Command, victim: usize) -> (String, Option<&Value>) {
    let table = &target.table;
    let victim = &target.victims[victim];
    match command {
        Command::Select => (
            format!(
                "select 1 from {} v where {}",
                table.sql_name,
                table.key_match()
            ),
            Some(&victim.row),
        ),
        Command::Insert => {
            let columns = target.insert_columns.iter().map(|c| quote_ident(c));
            let values = target.insert_columns.iter().map(|c| {
                if target.caller_columns.contains(c) {
                    format!("(select auth.uid())::{}", table.column_type(c))
                } else {
                    format!("r.{}", quote_ident(c))
                }
            });
            (
                format!(
                    "insert into {t} ({}) select {} from jsonb_populate_record(null::{t}, $1::jsonb) r",
                    columns.collect::<Vec<_>>().join(", "),
                    values.collect::<Vec<_>>().join(", "),
                    t = table.sql_name
                ),
                Some(&victim.insert_copy),
            )
        }
        Command::Update => {
            let column = quote_ident(&target.update_column);
            (
                format!(
                    "update {} v set {column} = v.{column} where {}",
                    table.sql_name,
                    table.key_match()
                ),
                Some(&victim.row),
            )
        }
        Command::Delete => (
            format!(
                "delete from {} v where {}",
                table.sql_name,
                table.key_match()
            ),
            Some(&victim.row),
        ),
        Command::Truncate => (format!("truncate {}", table.sql_name), None),
    }
}

fn method(command: Command) -> &'static str {
    match command {
        Command::Select => "GET",
        Command::Insert | Command::Truncate => "POST",
        Command::Update => "PATCH",
        Command::Delete => "DELETE",
    }
}

/// Runs one attempt as `identity` and rolls it back. Err only when the connection itself fails.
pub async fn run(
    authenticator: &mut Client,
    identity: &Identity,
    target: &Target,
    command: Command,
    victim: usize,
) -> Result<Outcome, tokio_postgres::Error> {
    let (sql, row) = statement(target, command, victim);
    let tx = authenticator
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .read_only(command == Command::Select)
        .start()
        .await?;
    let claims = identity.claims.to_string();
    let headers = identity.headers.to_string();
    let path = format!("/rest/v1/{}", target.table.name);
    tx.query_typed(
        IDENTITY_SQL,
        &[
            (&identity.role, Type::TEXT),
            (&claims, Type::TEXT),
            (&method(command), Type::TEXT),
            (&path, Type::TEXT),
            (&headers, Type::TEXT),
        ],
    )
    .await?;
    let params: Vec<&(dyn ToSql + Sync)> = row.iter().map(|r| *r as _).collect();
    let result = match command {
        Command::Select => tx.query(&sql, &params).await.map(|rows| rows.len() as u64),
        _ => tx.execute(&sql, &params).await,
    };
    tx.rollback().await?;
    Ok(match result {
        Ok(rows) => Outcome::Rows(rows),
        Err(error) => match error.as_db_error() {
            Some(db) if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE => Outcome::Refused,
            Some(db) => Outcome::Failed {
                sqlstate: db.code().code().to_owned(),
                message: db.message().to_owned(),
            },
            None => return Err(error),
        },
    })
}
