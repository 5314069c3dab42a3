use std::future::Future;
use std::pin::Pin;

use edge_guard::DbPrincipal;
use futures_util::future::join;
use serde_json::Value;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, IsolationLevel, Transaction};

use crate::DbError;

/// Read-only for reads (as PostgREST opens GET/HEAD), read-write otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// The parts of the HTTP request PostgREST exposes to SQL as `request.*` settings.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub method: String,
    pub path: String,
    /// JSON object, lower-case header names. Credentials are left out by the adapter.
    pub headers: Value,
}

/// Applies, in this order and as one statement, what PostgREST sets per request: the search path,
/// the role's own settings (e.g. statement_timeout), the role, the claims, then request details.
/// The role's settings come from the catalog so `ALTER ROLE … SET` in sql/ is the one source.
/// (Also read by the TypeScript comparison worker, benches/ts-worker, so both set the same.)
const SETTINGS_SQL: &str = include_str!("request_settings.sql");

/// What a caller's work gets: the open transaction and the principal it runs as. Boxed so a
/// closure can borrow both (`move |tx, principal| Box::pin(async move { … })`).
pub type Work<'t, T> = Pin<Box<dyn Future<Output = Result<T, DbError>> + 't>>;

/// Opens a READ COMMITTED transaction as `principal`. Dropping the transaction rolls it back;
/// call `commit()` to keep its writes. Never changes session-level state.
pub async fn begin_as<'c>(
    client: &'c mut Client,
    principal: &impl DbPrincipal,
    access: Access,
    request: &RequestInfo,
) -> Result<Transaction<'c>, DbError> {
    let transaction = start(client, principal, access).await?;
    apply_settings(&transaction, principal, request).await?;
    Ok(transaction)
}

/// Runs `work` in one transaction as `principal` (what [`begin_as`] sets), committed when it
/// succeeds, rolled back when it or the settings fail.
///
/// Three round trips for a single-statement `work`: BEGIN; the settings statement with `work`'s
/// first statement queued right behind it (tokio-postgres writes requests whose futures are polled
/// together in one flight); COMMIT. Postgres runs them in order, so `work` never runs without the
/// settings: a failed settings statement aborts the transaction and `work`'s statements fail with
/// it. COMMIT is sent only once `work` returned `Ok`, so an error after a statement still rolls
/// back. (BEGIN cannot join the flight: tokio-postgres hands out a `Transaction` only after
/// BEGIN's reply.)
pub async fn run_as<P: DbPrincipal, T>(
    client: &mut Client,
    principal: &P,
    access: Access,
    request: &RequestInfo,
    work: impl for<'t> FnOnce(&'t Transaction<'t>, &'t P) -> Work<'t, T>,
) -> Result<T, DbError> {
    let transaction = start(client, principal, access).await?;
    // `join` polls the settings first, so their request is written before `work`'s.
    let (settings, value) = join(
        apply_settings(&transaction, principal, request),
        work(&transaction, principal),
    )
    .await;
    settings?;
    let value = value?;
    transaction.commit().await?;
    Ok(value)
}

async fn start<'c>(
    client: &'c mut Client,
    principal: &impl DbPrincipal,
    access: Access,
) -> Result<Transaction<'c>, DbError> {
    // A check that writes (a key's last use) needs a read-write transaction even for a read.
    let writes = principal.db_check().is_some_and(|check| check.writes());
    let access = if writes { Access::ReadWrite } else { access };
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .read_only(access == Access::ReadOnly)
        .start()
        .await?)
}

/// The settings statement, then the principal's database check (if it has one) in the same
/// flight: both are written before the caller's work is polled, so they run first.
async fn apply_settings(
    transaction: &Transaction<'_>,
    principal: &impl DbPrincipal,
    request: &RequestInfo,
) -> Result<(), DbError> {
    let (settings, check) = join(
        settings_statement(transaction, principal, request),
        crate::admission::run_check(transaction, principal.db_check()),
    )
    .await;
    settings?;
    check?;
    principal.db_check_passed();
    Ok(())
}

async fn settings_statement(
    transaction: &Transaction<'_>,
    principal: &impl DbPrincipal,
    request: &RequestInfo,
) -> Result<(), DbError> {
    let role = principal.db_role().as_str();
    let mut claims = principal.jwt_claims();
    // PostgREST inserts the effective role into the claims it exposes.
    if let Value::Object(map) = &mut claims {
        map.insert("role".into(), role.into());
    }
    let claims = claims.to_string();
    let headers = request.headers.to_string();
    transaction
        .query_typed(
            SETTINGS_SQL,
            &[
                (&role, Type::TEXT),
                (&claims, Type::TEXT),
                (&request.method, Type::TEXT),
                (&request.path, Type::TEXT),
                (&headers, Type::TEXT),
            ],
        )
        .await?;
    Ok(())
}
