//! The assistant pipeline (crate `assistant-pipeline`) inside workerd: its ports are the guard
//! worker through its binding ([`crate::guard_service`]), the database as the caller (strikes,
//! notes, the `ai` budget) and the chat completions API through the outbound path in
//! [`crate::upstream`]. Blocked input is logged with the input guard's
//! category and a keyed hash, never the text.

use assistant_pipeline::{
    answer, Answer, Asker, Failure, Ports, Settings, Standing, Strike, MAX_CONTEXT_NOTES,
    MAX_NOTE_CHARS,
};
use edge_guard::DbPrincipal;
use input_guard::Inspection;
use input_guard::{StrikePolicy, UnixSeconds};
use rls_db::assistant as queries;
use rls_db::budgets::{BudgetExhausted, Meter, Reservation};
use rls_db::{Access, RequestInfo};
use worker::Env;

use crate::config::optional_text;
use crate::error::Rejection;
use crate::{in_transaction, log_event, ApiError, Level};

/// The model asked when LLM_MODEL is not set.
const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// Who asks, for whom: strikes are kept per `subject` (`user:<uuid>` for a signed-in user), the
/// notes and the budget are the workspace's, and every statement runs as `principal`.
pub struct AskFor<'a, P> {
    pub env: &'a Env,
    pub principal: &'a P,
    pub request: RequestInfo,
    pub workspace_id: String,
    pub subject: String,
    pub notes: NotesSeen,
}

/// Which of the workspace's notes the model may quote.
#[derive(Clone)]
pub enum NotesSeen {
    /// Those RLS shows the caller (a member asking through the SPA).
    ByCaller,
    /// The team notes of the workspace that owns the number this WhatsApp message came in on,
    /// while the reply consumer holds its claim (the service role reads notes no other way).
    ForClaimedWhatsapp { wamid: String },
}

/// Answers `question` through the pipeline (standing, input guard, `ai` reserve, model,
/// settle). Vars LLM_API_URL, LLM_MODEL; secret LLM_API_KEY; the `INPUT_GUARD` service binding.
/// Errors: 400 `input_blocked` (with `category`), 429 `temporarily_blocked` (with
/// `Retry-After`), 429 `budget_exhausted` (with `meter`), 503 `upstream_unavailable` when the
/// guard worker or the model fails, 404 for a workspace RLS does not show the caller.
pub async fn ask_assistant<P: DbPrincipal + 'static>(
    ask: &AskFor<'_, P>,
    question: &str,
) -> Result<Answer, ApiError> {
    let settings = Settings {
        model: optional_text(ask.env, "LLM_MODEL").unwrap_or_else(|| DEFAULT_MODEL.to_owned()),
        strikes: StrikePolicy::default(),
    };
    answer(ask, &settings, question)
        .await
        .map_err(|failure| match failure {
            Failure::TemporarilyBlocked { retry_after_secs } => {
                temporarily_blocked(retry_after_secs)
            }
            Failure::InputBlocked { strike, standing } => {
                log_event(
                    Level::Warn,
                    "input_blocked",
                    &[
                        ("category", strike.category.clone().into()),
                        ("kind", strike.kind.as_str().into()),
                        ("keyed_hash", strike.keyed_hash.into()),
                        (
                            "now_blocked",
                            matches!(standing, Standing::Blocked { .. }).into(),
                        ),
                    ],
                );
                ApiError::Rejected(Rejection {
                    status: 400,
                    code: "input_blocked",
                    message: "the input guard refused this question",
                    fields: vec![("category", strike.category)],
                    retry_after_secs: None,
                })
            }
            Failure::BudgetExhausted(exhausted) => exhausted.into(),
            Failure::Model(error) => {
                log_event(
                    Level::Error,
                    "model_call_failed",
                    &[("detail", format!("{error:?}").into())],
                );
                ApiError::Upstream("the language model API")
            }
            Failure::Port(error) => error,
        })
}

fn temporarily_blocked(retry_after_secs: u64) -> ApiError {
    ApiError::Rejected(Rejection {
        status: 429,
        code: "temporarily_blocked",
        message: "too many refused questions: the assistant is blocked for you for a while",
        fields: Vec::new(),
        retry_after_secs: Some(retry_after_secs.max(1)),
    })
}

impl<P: DbPrincipal + 'static> Ports for AskFor<'_, P> {
    type Error = ApiError;

    fn now(&self) -> UnixSeconds {
        crate::guards::now_secs()
    }

    async fn inspect(&self, question: &str) -> Result<Inspection, ApiError> {
        crate::guard_service::inspect_remotely(self.env, question).await
    }

    async fn asker(&self, lookback_secs: u64) -> Result<Asker, ApiError> {
        let (subject, workspace_id) = (self.subject.clone(), self.workspace_id.clone());
        let seen = self.notes.clone();
        let lookback = lookback_in_sql(lookback_secs);
        in_transaction(
            self.env,
            self.principal,
            Access::ReadOnly,
            &self.request,
            move |tx, _| {
                Box::pin(async move {
                    let strikes = queries::strike_times(tx, &subject, lookback).await?;
                    let notes = match &seen {
                        NotesSeen::ByCaller => {
                            queries::context_notes(
                                tx,
                                &workspace_id,
                                MAX_CONTEXT_NOTES,
                                MAX_NOTE_CHARS,
                            )
                            .await?
                        }
                        NotesSeen::ForClaimedWhatsapp { wamid } => {
                            queries::whatsapp_context_notes(
                                tx,
                                wamid,
                                MAX_CONTEXT_NOTES,
                                MAX_NOTE_CHARS,
                            )
                            .await?
                        }
                    };
                    Ok(Asker {
                        strike_times: unix_seconds(strikes),
                        notes,
                    })
                })
            },
        )
        .await
    }

    async fn record_strike(
        &self,
        strike: &Strike,
        lookback_secs: u64,
    ) -> Result<Vec<UnixSeconds>, ApiError> {
        let subject = self.subject.clone();
        let (category, hash) = (strike.category.clone(), strike.keyed_hash.clone());
        let lookback = lookback_in_sql(lookback_secs);
        let strikes = in_transaction(
            self.env,
            self.principal,
            Access::ReadWrite,
            &self.request,
            move |tx, _| {
                Box::pin(async move {
                    queries::record_strike(tx, &subject, &category, &hash, lookback).await
                })
            },
        )
        .await?;
        Ok(unix_seconds(strikes))
    }

    async fn reserve(
        &self,
        meter: Meter,
        amount: i64,
    ) -> Result<Result<Reservation, BudgetExhausted>, ApiError> {
        crate::budgets::try_reserve(
            self.env,
            self.principal,
            &self.request,
            &self.workspace_id,
            meter,
            amount,
        )
        .await
    }

    async fn complete(&self, body: String) -> Result<(u16, Vec<u8>), ApiError> {
        let reply = crate::upstream::chat_completions(self.env, body).await?;
        Ok((reply.status, reply.body))
    }

    async fn settle(&self, reservation: &Reservation, spent: i64) -> Result<(), ApiError> {
        crate::settle_budget(self.env, self.principal, &self.request, reservation, spent).await
    }
}

/// The look-back as the SQL functions take it (a week fits many times over).
fn lookback_in_sql(secs: u64) -> i32 {
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn unix_seconds(times: Vec<i64>) -> Vec<UnixSeconds> {
    times.into_iter().map(|t| t.max(0) as u64).collect()
}
