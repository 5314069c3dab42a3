//! Webhook replay: processes every stored webhook event that is not processed yet (a Paddle
//! event updates billing_accounts; a Mercado Pago notification is applied from the payment
//! fetched by its signed id). On the platform's schedule (`[triggers] crons`), or `POST` with
//! `X-Cron-Secret` (`ci/replay-webhooks` calls it). Running it twice changes nothing.

use edge_adapter::{replay_webhooks, request_info, ApiError, Call, Reply, ScheduledCall};
use edge_guard::CronCaller;

edge_adapter::serve! {
    routes {
        POST "/functions/v1/webhook-replay" => cron_secret => replay_over_http,
    }
    schedules {
        "*/10 * * * *" => replay_on_schedule,
    }
}

async fn replay_over_http(call: Call<CronCaller>) -> Result<Reply, ApiError> {
    let summary = replay_webhooks(&call.env, &call.principal, &request_info(&call.req)).await?;
    Ok(Reply::json(200, summary))
}

async fn replay_on_schedule(call: ScheduledCall) -> Result<String, ApiError> {
    let summary = replay_webhooks(&call.env, &call.principal, &call.request_info()).await?;
    Ok(summary.to_string())
}
