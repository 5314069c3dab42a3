//! Retention jobs: processed webhook events, workspaces and notes past their deletion grace
//! period, audit entries past their retention, old rate-limit windows (one transaction); then
//! each account whose deletion grace period is over: its auth user removed through Supabase Auth's
//! admin API, then its files' R2 objects, then its rows (one transaction per account); then
//! uploaded files' originals past their retention are deleted from R2 (their processed copies
//! stay). On the platform's schedule
//! (`[triggers] crons`), or `POST` with `X-Cron-Secret`. A scheduled run cannot report failure to
//! anyone, so every job records itself in `cron_runs` and a failure is logged.

use edge_adapter::{
    delete_auth_user, delete_user_objects, in_transaction, optional_number, purge_file_originals,
    request_info, Access, ApiError, Call, Reply, ScheduledCall,
};
use edge_guard::CronCaller;
use rls_db::retention::{
    due_account_deletions, purge_account, purge_audit_log, purge_processed_webhook_events,
    purge_rate_limit_windows, purge_soft_deleted, DEFAULT_AUDIT_RETENTION_MONTHS,
    DEFAULT_FILE_ORIGINAL_RETENTION_DAYS, DEFAULT_RATE_LIMIT_RETENTION_DAYS,
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
        "purged {} processed webhook events, {} soft-deleted rows, {} audit entries, \
         {} rate-limit windows, {} accounts, {} file originals",
        purged.webhook_events,
        purged.soft_deleted,
        purged.audit_log,
        purged.rate_limit_windows,
        purged.accounts,
        purged.file_originals
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
            "audit_log_purged": purged.audit_log,
            "rate_limit_windows_purged": purged.rate_limit_windows,
            "accounts_purged": purged.accounts,
            "file_originals_purged": purged.file_originals,
        }),
    ))
}

/// How many rows (accounts, for `accounts`) each job removed.
struct Purged {
    webhook_events: i64,
    soft_deleted: i64,
    audit_log: i64,
    rate_limit_windows: i64,
    accounts: i64,
    file_originals: i64,
}

/// Each period is a var with the documented default (README, Retention).
struct Periods {
    webhook_retention_days: i32,
    soft_delete_grace_days: i32,
    audit_retention_months: i32,
    rate_limit_retention_days: i32,
    file_original_retention_days: i32,
}

impl Periods {
    fn from_env(env: &Env) -> Result<Self, ApiError> {
        Ok(Self {
            webhook_retention_days: optional_number(env, "WEBHOOK_RETENTION_DAYS")?
                .unwrap_or(DEFAULT_WEBHOOK_RETENTION_DAYS),
            soft_delete_grace_days: optional_number(env, "SOFT_DELETE_GRACE_DAYS")?
                .unwrap_or(DEFAULT_SOFT_DELETE_GRACE_DAYS),
            audit_retention_months: optional_number(env, "AUDIT_RETENTION_MONTHS")?
                .unwrap_or(DEFAULT_AUDIT_RETENTION_MONTHS),
            rate_limit_retention_days: optional_number(env, "RATE_LIMIT_RETENTION_DAYS")?
                .unwrap_or(DEFAULT_RATE_LIMIT_RETENTION_DAYS),
            file_original_retention_days: optional_number(env, "FILE_ORIGINAL_RETENTION_DAYS")?
                .unwrap_or(DEFAULT_FILE_ORIGINAL_RETENTION_DAYS),
        })
    }
}

async fn purge(caller: &CronCaller, request: &RequestInfo, env: &Env) -> Result<Purged, ApiError> {
    let periods = Periods::from_env(env)?;
    let (mut purged, due) = in_transaction(
        env,
        caller,
        Access::ReadWrite,
        request,
        move |tx, caller| {
            Box::pin(async move {
                let purged = Purged {
                    webhook_events: purge_processed_webhook_events(
                        tx,
                        caller,
                        periods.webhook_retention_days,
                    )
                    .await?,
                    soft_deleted: purge_soft_deleted(tx, caller, periods.soft_delete_grace_days)
                        .await?,
                    audit_log: purge_audit_log(tx, caller, periods.audit_retention_months).await?,
                    rate_limit_windows: purge_rate_limit_windows(
                        tx,
                        caller,
                        periods.rate_limit_retention_days,
                    )
                    .await?,
                    accounts: 0,
                    file_originals: 0,
                };
                Ok((purged, due_account_deletions(tx, caller).await?))
            })
        },
    )
    .await?;
    // The auth user goes first: once it is gone nobody can sign in as the account while its rows
    // are removed. A failure stops the run; the next run retries (a 404 from Auth counts as done).
    for user_id in due {
        delete_auth_user(env, &user_id).await?;
        // The objects before the rows that name them, so a failure leaves them findable.
        delete_user_objects(env, caller, request, &user_id).await?;
        let changed = in_transaction(
            env,
            caller,
            Access::ReadWrite,
            request,
            move |tx, caller| Box::pin(async move { purge_account(tx, caller, &user_id).await }),
        )
        .await?;
        purged.accounts += i64::from(changed > 0);
    }
    purged.file_originals =
        purge_file_originals(env, caller, request, periods.file_original_retention_days).await?;
    Ok(purged)
}
