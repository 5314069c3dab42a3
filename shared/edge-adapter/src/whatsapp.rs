//! WhatsApp through a Cloudflare Queue: the Meta webhook stores a delivery, then hands its text
//! messages to the queue bound as `WHATSAPP_INBOUND` ([`store_and_queue_whatsapp`]); the queue's
//! consumer ([`answer_whatsapp_batch`]) answers each message once and sends the answer with the
//! Graph API's `messages` endpoint, through the Meta Graph API's circuit breaker.

use edge_guard::{QueueConsumer, VerifiedWebhook};
use rls_db::whatsapp_replies::{self, Claim};
use rls_db::{Access, RequestInfo};
use whatsapp_inbound::{inbound_texts, InboundText};
use worker::{Env, Message, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

use crate::{
    ask_assistant, in_transaction, log_event, reserve_budget, send_whatsapp_text, settle_budget,
    store_webhook, ApiError, AskFor, Call, Level, Meter, NotesSeen, Reply,
};

const QUEUE_BINDING: &str = "WHATSAPP_INBOUND";

/// A Queue's `sendBatch` takes at most 100 messages; Meta batches up to 1000 updates.
const QUEUE_BATCH: usize = 100;

/// How long one consumer holds a message it is answering (more than the answer and the send
/// take within their timeouts); a crashed consumer's message is answered again after it.
const CLAIM_SECS: u32 = 120;

/// A message that could not be answered now comes back after this, unless the breaker said when.
const DEFAULT_RETRY_SECS: u32 = 10;

/// Meta's webhook: stores the delivery once ([`store_webhook`]), then queues its text messages
/// for the reply consumer, only after they are stored. A redelivery (a duplicate) is queued
/// again: should the first hand-off have failed, this one makes up for it, and the consumer
/// answers a `wamid` once whatever it is given. A queue that refuses them answers 503, so Meta
/// retries (the retry is a stored duplicate, queued again).
pub async fn store_and_queue_whatsapp(call: Call<VerifiedWebhook>) -> Result<Reply, ApiError> {
    let inbound = inbound_texts(call.principal.payload());
    let env = call.env.clone();
    let stored = store_webhook(call).await?;
    if !inbound.is_empty() {
        let queue = env
            .queue(QUEUE_BINDING)
            .map_err(|_| ApiError::NotConfigured("WHATSAPP_INBOUND (queue producer binding)"))?;
        for chunk in inbound.chunks(QUEUE_BATCH) {
            queue
                .send_batch(chunk.to_vec())
                .await
                .map_err(|_| ApiError::Upstream("the WhatsApp inbound queue"))?;
        }
    }
    Ok(stored)
}

/// The queue consumer: each message is acknowledged once answered (or once it turns out it needs
/// no answer: already answered, or a number no workspace proved it owns) and retried otherwise,
/// after the breaker's `Retry-After` when it was open.
pub async fn answer_whatsapp_batch(batch: MessageBatch<InboundText>, env: Env) {
    let consumer = QueueConsumer::for_bound_queue(&batch.queue());
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(error) => {
            // Not our shape: nothing in it can be answered, and retrying cannot change that.
            log_event(
                Level::Error,
                "whatsapp_batch_unreadable",
                &[("detail", error.to_string().into())],
            );
            return batch.ack_all();
        }
    };
    for message in messages {
        match answer_once(&env, &consumer, message.body()).await {
            Ok(Handled::Done) => message.ack(),
            // Whoever holds the claim answers it; should they crash, the claim lapses by then.
            Ok(Handled::HeldElsewhere) => retry_later(&message, "claimed_elsewhere", CLAIM_SECS),
            Err(error) => retry_later(
                &message,
                error.status_code_message().1,
                error.retry_after_secs().unwrap_or(DEFAULT_RETRY_SECS),
            ),
        }
    }
}

/// How far one delivery of a message got.
enum Handled {
    /// Answered now, answered before, or never to be answered (not a proven number).
    Done,
    /// Another consumer holds the claim on it.
    HeldElsewhere,
}

fn retry_later(message: &Message<InboundText>, code: &str, delay: u32) {
    log_event(
        Level::Error,
        "whatsapp_reply_deferred",
        &[("code", code.into()), ("retry_in_secs", delay.into())],
    );
    message.retry_with_options(
        &QueueRetryOptionsBuilder::new()
            .with_delay_seconds(delay)
            .build(),
    );
}

/// Claims the message, produces the answer and sends it; a failure after the claim releases it
/// with its reason, so the retry answers it.
async fn answer_once(
    env: &Env,
    consumer: &QueueConsumer,
    inbound: &InboundText,
) -> Result<Handled, ApiError> {
    let request = queue_request_info(consumer);
    let message = inbound.clone();
    let claim = in_transaction(env, consumer, Access::ReadWrite, &request, |tx, _| {
        Box::pin(async move {
            whatsapp_replies::claim(
                tx,
                &message.wamid,
                &message.phone_number_id,
                &message.from,
                CLAIM_SECS as i32,
            )
            .await
        })
    })
    .await?;
    let workspace_id = match claim {
        Claim::Claimed { workspace_id } => workspace_id,
        Claim::Answered | Claim::NotOurs => return Ok(Handled::Done),
        Claim::InProgress => return Ok(Handled::HeldElsewhere),
    };
    let sent = match answer_for(env, consumer, &request, &workspace_id, inbound).await {
        Ok(answer) => send_metered(env, consumer, &request, &workspace_id, inbound, &answer).await,
        Err(error) => Err(error),
    };
    let outcome: Result<String, &'static str> = match &sent {
        Ok(reply_wamid) => Ok(reply_wamid.clone()),
        Err(error) => Err(error.status_code_message().1),
    };
    let wamid = inbound.wamid.clone();
    in_transaction(env, consumer, Access::ReadWrite, &request, |tx, _| {
        Box::pin(async move {
            whatsapp_replies::finish(tx, &wamid, outcome.as_deref().map_err(|code| *code)).await
        })
    })
    .await?;
    sent.map(|_| Handled::Done)
}

/// The answer to `inbound.text` for `workspace_id`, from the assistant pipeline
/// ([`ask_assistant`]: the customer's strikes, the input guard, the workspace's `ai` budget, the
/// model through the `llm` breaker), asked as the queue consumer for the subject
/// `whatsapp:<the customer's number>`.
async fn answer_for(
    env: &Env,
    consumer: &QueueConsumer,
    request: &RequestInfo,
    workspace_id: &str,
    inbound: &InboundText,
) -> Result<String, ApiError> {
    let ask = AskFor {
        env,
        principal: consumer,
        request: request.clone(),
        workspace_id: workspace_id.to_owned(),
        subject: format!("whatsapp:{}", inbound.from),
        notes: NotesSeen::ForClaimedWhatsapp {
            wamid: inbound.wamid.clone(),
        },
    };
    Ok(ask_assistant(&ask, &inbound.text).await?.text)
}

/// Sends `answer` as the reply to `inbound`, counted on the workspace's `sending` meter (one
/// message; 429 `budget_exhausted` when it is used up, and the message waits for the retry).
async fn send_metered(
    env: &Env,
    consumer: &QueueConsumer,
    request: &RequestInfo,
    workspace_id: &str,
    inbound: &InboundText,
    answer: &str,
) -> Result<String, ApiError> {
    let reservation =
        reserve_budget(env, consumer, request, workspace_id, Meter::Sending, 1).await?;
    let sent = send_whatsapp_text(
        env,
        &inbound.phone_number_id,
        &inbound.from,
        answer,
        &inbound.wamid,
    )
    .await;
    let spent = i64::from(sent.is_ok());
    settle_budget(env, consumer, request, &reservation, spent).await?;
    sent
}

/// What the database session sees of a queue delivery (there is no HTTP request).
fn queue_request_info(consumer: &QueueConsumer) -> RequestInfo {
    RequestInfo {
        method: "QUEUE".into(),
        path: format!("/queue/{}", consumer.queue()),
        headers: serde_json::json!({}),
    }
}
