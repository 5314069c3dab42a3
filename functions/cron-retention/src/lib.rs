//! Retention jobs: processed webhook events, then workspaces and notes past their deletion grace
//! period, in one transaction; then, as its own step, uploaded files' originals past their
//! retention are deleted from R2 (their processed copies stay). On the platform's schedule (`[triggers] crons`), or `POST` with
//! `X-Cron-Secret`. A scheduled run cannot report failure to anyone, so every run records itself
//! in `cron_runs` and a failure is logged.

use edge_adapter::{
    in_transaction, optional_number, purge_file_originals, request_info, Access, ApiError, Call,
    Reply, ScheduledCall,
};
use edge_guard::CronCaller;
use rls_db::retention::{
    purge_processed_webhook_events, purge_soft_deleted, DEFAULT_FILE_ORIGINAL_RETENTION_DAYS,
    DEFAULT_SOFT_DELETE_GRACE_DAYS, DEFAULT_WEBHOOK_RETENTION_DAYS,
};
use rls_db::RequestInfo;
use serde_json::json;
use worker::Env;

edge_adapter::serve! {
    routes {
        POST "/functions/v1/cron-retention" => cron_secret => run_over_http,
    }
    schedules {
        "17 3 * * *" => run_on_schedule,
    }
}

async fn run_on_schedule(call: ScheduledCall) -> Result<String, ApiError> {
    let purged = purge(&call.principal, &call.request_info(), &call.env).await?;
    Ok(format!(
        "purged {} processed webhook events, {} soft-deleted rows, {} file originals",
        purged.webhook_events, purged.soft_deleted, purged.file_originals
    ))
}

async fn run_over_http(call: Call<CronCaller>) -> Result<Reply, ApiError> {
    let purged = purge(&call.principal, &request_info(&call.req), &call.env).await?;
    Ok(Reply::json(
        200,
        json!({
            "job": "purge_processed_webhook_events",
            "purged": purged.webhook_events,
            "soft_deleted_purged": purged.soft_deleted,
            "file_originals_purged": purged.file_originals,
        }),
    ))
}

/// How many rows each job removed.
struct Purged {
    webhook_events: i64,
    soft_deleted: i64,
    file_originals: i64,
}

async fn purge(caller: &CronCaller, request: &RequestInfo, env: &Env) -> Result<Purged, ApiError> {
    let retention_days =
        optional_number(env, "WEBHOOK_RETENTION_DAYS")?.unwrap_or(DEFAULT_WEBHOOK_RETENTION_DAYS);
    let grace_days =
        optional_number(env, "SOFT_DELETE_GRACE_DAYS")?.unwrap_or(DEFAULT_SOFT_DELETE_GRACE_DAYS);
    let (webhook_events, soft_deleted) = in_transaction(
        env,
        caller,
        Access::ReadWrite,
        request,
        move |tx, caller| {
            Box::pin(async move {
                Ok((
                    purge_processed_webhook_events(tx, caller, retention_days).await?,
                    purge_soft_deleted(tx, caller, grace_days).await?,
                ))
            })
        },
    )
    .await?;
    let file_retention_days = optional_number(env, "FILE_ORIGINAL_RETENTION_DAYS")?
        .unwrap_or(DEFAULT_FILE_ORIGINAL_RETENTION_DAYS);
    let file_originals = purge_file_originals(env, caller, request, file_retention_days).await?;
    Ok(Purged {
        webhook_events,
        soft_deleted,
        file_originals,
    })
}
