//! Jobs run by the cron function. Each is a privileged SQL function (callable by service_role
//! only, checking its own preconditions) that records its run in `cron_runs`:
//! sql/migrations/0007_cron_runs.sql and 0016_soft_delete_purge.sql.

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

/// Calls a job function taking (a window in days, the trigger's name).
async fn run_job(
    tx: &Transaction<'_>,
    statement: &str,
    caller: &CronCaller,
    days: i32,
) -> Result<i64, DbError> {
    let trigger = trigger_name(caller);
    let rows = tx
        .query_typed(statement, &[(&days, Type::INT4), (&trigger, Type::TEXT)])
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
