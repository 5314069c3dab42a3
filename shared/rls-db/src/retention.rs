//! Retention jobs run by the cron function (the SQL lives in sql/migrations/0007_cron_runs.sql).

use edge_guard::{CronCaller, CronTrigger};
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// Processed webhook events are kept this long unless configured otherwise.
pub const DEFAULT_WEBHOOK_RETENTION_DAYS: i32 = 90;

/// Deletes processed webhook events older than `retention_days` and records the run in
/// `cron_runs`. Returns how many events were purged.
pub async fn purge_processed_webhook_events(
    tx: &Transaction<'_>,
    caller: &CronCaller,
    retention_days: i32,
) -> Result<i64, DbError> {
    let trigger = match caller.trigger() {
        CronTrigger::Schedule { .. } => "schedule",
        CronTrigger::Http => "http",
    };
    let rows = tx
        .query_typed(
            "select private.purge_processed_webhook_events(make_interval(days => $1), $2)",
            &[(&retention_days, Type::INT4), (&trigger, Type::TEXT)],
        )
        .await?;
    single_value(rows)
}
