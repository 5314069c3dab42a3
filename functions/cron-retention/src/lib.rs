//! Retention jobs: processed webhook events, then workspaces and notes past their deletion grace
//! period, in one transaction. Guards: the platform's scheduled event (`[triggers] crons`), or `POST` with `X-Cron-Secret`.
//! A scheduled run cannot report failure to anyone, so every run records itself in `cron_runs`
//! and a failure is logged.

use edge_adapter::{
    cron_caller, in_transaction, optional_number, request_info, require_method, respond, Access,
    ApiError, Reply,
};
use edge_guard::CronCaller;
use rls_db::retention::{
    purge_processed_webhook_events, purge_soft_deleted, DEFAULT_SOFT_DELETE_GRACE_DAYS,
    DEFAULT_WEBHOOK_RETENTION_DAYS,
};
use rls_db::RequestInfo;
use serde_json::json;
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    respond(run_over_http(req, env).await)
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let caller = CronCaller::from_platform_schedule(&event.cron());
    let request = RequestInfo {
        method: "SCHEDULED".into(),
        path: event.cron(),
        headers: json!({}),
    };
    match purge(&caller, &request, &env).await {
        Ok(Purged {
            webhook_events,
            soft_deleted,
        }) => worker::console_log!(
            "retention: purged {webhook_events} processed webhook events, {soft_deleted} soft-deleted rows"
        ),
        Err(error) => worker::console_error!("retention failed: {:?}", error.status_code_message()),
    }
}

async fn run_over_http(req: Request, env: Env) -> Result<Reply, ApiError> {
    require_method(&req, Method::Post)?;
    let caller = cron_caller(&req, &env)?;
    let purged = purge(&caller, &request_info(&req), &env).await?;
    Ok(Reply::json(
        200,
        json!({
            "job": "purge_processed_webhook_events",
            "purged": purged.webhook_events,
            "soft_deleted_purged": purged.soft_deleted,
        }),
    ))
}

/// How many rows each job removed.
struct Purged {
    webhook_events: i64,
    soft_deleted: i64,
}

async fn purge(caller: &CronCaller, request: &RequestInfo, env: &Env) -> Result<Purged, ApiError> {
    let retention_days =
        optional_number(env, "WEBHOOK_RETENTION_DAYS")?.unwrap_or(DEFAULT_WEBHOOK_RETENTION_DAYS);
    let grace_days =
        optional_number(env, "SOFT_DELETE_GRACE_DAYS")?.unwrap_or(DEFAULT_SOFT_DELETE_GRACE_DAYS);
    in_transaction(
        env,
        caller,
        Access::ReadWrite,
        request,
        move |tx, caller| {
            Box::pin(async move {
                Ok(Purged {
                    webhook_events: purge_processed_webhook_events(tx, caller, retention_days)
                        .await?,
                    soft_deleted: purge_soft_deleted(tx, caller, grace_days).await?,
                })
            })
        },
    )
    .await
}
