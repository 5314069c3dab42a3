use std::future::Future;
use std::pin::Pin;

use std::borrow::Cow;

use edge_guard::DbPrincipal;
use futures_util::future::{join, join5};
use serde_json::Value;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, IsolationLevel, Row, Transaction};

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

/// One SQL statement with its parameters, and how its rows become the caller's answer: what a
/// single-statement handler runs ([`run_single_as`], one round trip), or one step of a longer
/// piece of work inside [`run_as`] ([`SingleStatement::run`]).
pub struct SingleStatement<'a, T> {
    sql: Cow<'static, str>,
    params: Vec<(Box<dyn ToSql + Sync + 'a>, Type)>,
    decode: fn(Vec<Row>) -> Result<T, DbError>,
}

impl<'a, T> SingleStatement<'a, T> {
    pub(crate) fn new(
        sql: impl Into<Cow<'static, str>>,
        params: Vec<(Box<dyn ToSql + Sync + 'a>, Type)>,
        decode: fn(Vec<Row>) -> Result<T, DbError>,
    ) -> Self {
        Self {
            sql: sql.into(),
            params,
            decode,
        }
    }

    /// Runs it in `transaction`, already open as the caller.
    pub async fn run(self, transaction: &Transaction<'_>) -> Result<T, DbError> {
        let rows = transaction.query_typed(&self.sql, &self.params()).await?;
        (self.decode)(rows)
    }

    fn params(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        self.params
            .iter()
            .map(|(value, ty)| (value.as_ref() as &(dyn ToSql + Sync), ty.clone()))
            .collect()
    }
}

/// Runs `statement` in its own transaction as `principal`, in one round trip: BEGIN, the
/// settings statement ([`begin_as`]'s), `statement` and COMMIT written together and answered
/// together. Postgres runs them in order inside the one transaction block, so `statement` never
/// runs without the settings; when the settings or `statement` fail, the block is aborted and
/// Postgres turns the COMMIT into a ROLLBACK, so nothing is kept and the first error is returned.
///
/// What this cannot do that [`run_as`] does: decide after a statement whether to commit. The rows
/// are decoded once COMMIT is answered, so only statements whose decoding fails when nothing was
/// written (no row, a refused change) belong here; work of two or more statements, or that
/// needs a Rust decision between them, keeps [`run_as`]. `client` must be outside a transaction
/// (a fresh connection, as every function opens), so BEGIN opens the block: BEGIN fails only
/// when the connection does, and then so does everything written behind it.
pub async fn run_single_as<T>(
    client: &Client,
    principal: &impl DbPrincipal,
    access: Access,
    request: &RequestInfo,
    statement: SingleStatement<'_, T>,
) -> Result<T, DbError> {
    let begin = match effective_access(principal, access) {
        Access::ReadOnly => "begin isolation level read committed read only",
        Access::ReadWrite => "begin isolation level read committed read write",
    };
    let settings = Settings::of(principal, request);
    // `join5` polls in order, and each request is written when first polled: one flight.
    let (begun, settled, checked, rows, committed) = join5(
        client.batch_execute(begin),
        client.query_typed(SETTINGS_SQL, &settings.params()),
        crate::admission::run_check(client, principal.db_check()),
        client.query_typed(&statement.sql, &statement.params()),
        client.batch_execute("commit"),
    )
    .await;
    begun?;
    settled?;
    checked?;
    principal.db_check_passed();
    let rows = rows?;
    committed?;
    (statement.decode)(rows)
}

async fn start<'c>(
    client: &'c mut Client,
    principal: &impl DbPrincipal,
    access: Access,
) -> Result<Transaction<'c>, DbError> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .read_only(effective_access(principal, access) == Access::ReadOnly)
        .start()
        .await?)
}

/// A check that writes (a key's last use) needs a read-write transaction even for a read.
fn effective_access(principal: &impl DbPrincipal, access: Access) -> Access {
    match principal.db_check() {
        Some(check) if check.writes() => Access::ReadWrite,
        _ => access,
    }
}

/// The settings statement, then the principal's database check (if it has one) in the same
/// flight: both are written before the caller's work is polled, so they run first.
async fn apply_settings(
    transaction: &Transaction<'_>,
    principal: &impl DbPrincipal,
    request: &RequestInfo,
) -> Result<(), DbError> {
    let settings = Settings::of(principal, request);
    let (settled, checked) = join(
        transaction.query_typed(SETTINGS_SQL, &settings.params()),
        crate::admission::run_check(transaction, principal.db_check()),
    )
    .await;
    settled?;
    checked?;
    principal.db_check_passed();
    Ok(())
}

/// The settings statement's parameters for one request.
struct Settings<'r> {
    role: &'static str,
    claims: String,
    request: &'r RequestInfo,
    headers: String,
}

impl<'r> Settings<'r> {
    fn of(principal: &impl DbPrincipal, request: &'r RequestInfo) -> Self {
        let role = principal.db_role().as_str();
        let mut claims = principal.jwt_claims();
        // PostgREST inserts the effective role into the claims it exposes.
        if let Value::Object(map) = &mut claims {
            map.insert("role".into(), role.into());
        }
        Self {
            role,
            claims: claims.to_string(),
            request,
            headers: request.headers.to_string(),
        }
    }

    fn params(&self) -> [(&(dyn ToSql + Sync), Type); 5] {
        [
            (&self.role, Type::TEXT),
            (&self.claims, Type::TEXT),
            (&self.request.method, Type::TEXT),
            (&self.request.path, Type::TEXT),
            (&self.headers, Type::TEXT),
        ]
    }
}
