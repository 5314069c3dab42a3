//! Jobs run by the cron function. Each is a privileged SQL function (callable by service_role
//! only, checking its own preconditions) that records its run in `cron_runs`:
//! sql/migrations/0007_cron_runs.sql, 0016_soft_delete_purge.sql, 0045_account_deletion.sql and
//! 0046_retention_complete.sql.

use edge_guard::{CronCaller, CronTrigger};
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// Processed webhook events are kept this long unless configured otherwise.
pub const DEFAULT_WEBHOOK_RETENTION_DAYS: i32 = 90;

/// Originals of uploaded files are kept this long unless configured otherwise (the processed
/// copy stays).
pub const DEFAULT_FILE_ORIGINAL_RETENTION_DAYS: i32 = 30;

/// Deleted workspaces and notes stay restorable this long unless configured otherwise.
pub const DEFAULT_SOFT_DELETE_GRACE_DAYS: i32 = 30;

/// Audit entries are kept this long (months) unless configured otherwise.
pub const DEFAULT_AUDIT_RETENTION_MONTHS: i32 = 18;

/// Rate-limit windows (each at most a day long) are kept this long unless configured otherwise.
pub const DEFAULT_RATE_LIMIT_RETENTION_DAYS: i32 = 2;

/// Accounts purged per run at most, so one run stays bounded; the rest wait for the next run.
pub const ACCOUNT_PURGES_PER_RUN: i32 = 50;

/// Deletes processed webhook events older than `retention_days` and records the run in
/// `cron_runs`. Returns how many events were purged.
pub async fn purge_processed_webhook_events(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    retention_days: i32,
) -> Result<i64, DbError> {
    run_job(
        tx,
        "select public.purge_processed_webhook_events(make_interval(days => $1), $2)",
        caller,
        retention_days,
    )
    .await
}

/// Removes workspaces and notes deleted more than `grace_days` ago and records the run in
/// `cron_runs`. Returns how many workspaces and notes were removed.
pub async fn purge_soft_deleted(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    grace_days: i32,
) -> Result<i64, DbError> {
    run_job(
        tx,
        "select public.purge_soft_deleted(make_interval(days => $1), $2)",
        caller,
        grace_days,
    )
    .await
}

/// Deletes audit entries older than `retention_months` and records the run. Returns how many
/// entries were purged.
pub async fn purge_audit_log(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    retention_months: i32,
) -> Result<i64, DbError> {
    run_job(
        tx,
        "select public.purge_audit_log(make_interval(months => $1), $2)",
        caller,
        retention_months,
    )
    .await
}

/// Deletes rate-limit windows that started more than `retention_days` ago and records the run.
pub async fn purge_rate_limit_windows(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    retention_days: i32,
) -> Result<i64, DbError> {
    run_job(
        tx,
        "select public.purge_rate_limit_windows(make_interval(days => $1), $2)",
        caller,
        retention_days,
    )
    .await
}

/// The users whose account deletion's grace period is over, oldest first, at most
/// [`ACCOUNT_PURGES_PER_RUN`].
pub async fn due_account_deletions(
    tx: &Transaction<'_>,
    _caller: &CronCaller,
) -> Result<Vec<String>, DbError> {
    let rows = tx
        .query_typed(
            "select d::text from public.due_account_deletions($1) d",
            &[(&ACCOUNT_PURGES_PER_RUN, Type::INT4)],
        )
        .await?;
    rows.iter()
        .map(|row| row.try_get(0).map_err(DbError::from))
        .collect()
}

/// Removes a due account's rows (its auth user must be gone already) and records the run.
/// Returns the rows changed; 0 when the account was not due.
pub async fn purge_account(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    user_id: &str,
) -> Result<i64, DbError> {
    let rows = tx
        .query_typed(
            "select public.purge_account($1::uuid, $2)",
            &[(&user_id, Type::TEXT), (&trigger_name(caller), Type::TEXT)],
        )
        .await?;
    single_value(rows)
}

/// Calls a job function taking (a period in the job's unit, the trigger's name).
async fn run_job(
    tx: &Transaction<'_>,
    statement: &str,
    caller: &CronCaller,
    period: i32,
) -> Result<i64, DbError> {
    let rows = tx
        .query_typed(
            statement,
            &[(&period, Type::INT4), (&trigger_name(caller), Type::TEXT)],
        )
        .await?;
    single_value(rows)
}

/// How a job's run is recorded in `cron_runs.trigger`.
pub(crate) fn trigger_name(caller: &CronCaller) -> &'static str {
    match caller.trigger() {
        CronTrigger::Schedule { .. } => "schedule",
        CronTrigger::Http => "http",
    }
}
