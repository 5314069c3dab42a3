//! The workspace assistant without the runtime. [`answer`] is the one pipeline every caller
//! uses (the SPA's `assistant` function, WhatsApp replies):
//!
//! 1. the asker's standing: strikes within the look-back may hold a temporary block
//!    ([`Failure::TemporarilyBlocked`], nothing else is done);
//! 2. the input guard over the question (a port: natively the guard in process, inside workerd
//!    the guard worker through its binding): a block records a strike (category and a keyed
//!    hash, never the text) and ends the call ([`Failure::InputBlocked`]);
//! 3. the `ai` budget: the request's token ceiling is reserved ([`Failure::BudgetExhausted`]);
//! 4. the model call (OpenAI-compatible chat completions, through the ports: the runtime's
//!    outbound path with its circuit breaker);
//! 5. settle: the reported usage (at most the reservation), 0 when the call failed.
//!
//! The guard, the database and the network are behind [`Ports`], so the order above is tested
//! natively.

mod chat;

use input_guard::{Inspection, StrikePolicy, UnixSeconds};
use rls_db::budgets::{BudgetExhausted, Meter, Reservation};

pub use chat::{
    parse_completion, ChatRequest, Completion, Message, ModelError, MAX_COMPLETION_TOKENS,
    MAX_CONTEXT_BYTES, MAX_CONTEXT_NOTES, MAX_NOTE_CHARS,
};
/// One blocked input, as the guard answers it and the strikes store it: category, kind and a
/// keyed hash, no part of the text.
pub use input_guard::KeyedBlock as Strike;
pub use input_guard::{Kind, Standing};

/// What the pipeline needs from its runtime. Each method is one step; an `Err` is the runtime's
/// own failure (database unavailable, network down) and ends the pipeline as
/// [`Failure::Port`] (after settling 0 when a reservation is open).
#[allow(async_fn_in_trait)]
pub trait Ports {
    type Error;

    /// Now, in Unix seconds (the runtime's clock).
    fn now(&self) -> UnixSeconds;

    /// The input guard's verdict on `question`, the block's hash keyed with the deployment's
    /// secret (`InputGuard::inspect_keyed`). A guard that cannot answer is an `Err`: the
    /// question is then refused, never let through unchecked.
    async fn inspect(&self, question: &str) -> Result<Inspection, Self::Error>;

    /// In one read: the asker's strike times within `lookback_secs`, and the notes the asker may
    /// see (newest first, bounded by [`MAX_CONTEXT_NOTES`] and [`MAX_NOTE_CHARS`]).
    async fn asker(&self, lookback_secs: u64) -> Result<Asker, Self::Error>;

    /// Records a strike; answers the strike times within `lookback_secs`, this one included.
    async fn record_strike(
        &self,
        strike: &Strike,
        lookback_secs: u64,
    ) -> Result<Vec<UnixSeconds>, Self::Error>;

    /// Reserves `amount` of `meter` for the workspace.
    async fn reserve(
        &self,
        meter: Meter,
        amount: i64,
    ) -> Result<Result<Reservation, BudgetExhausted>, Self::Error>;

    /// Sends the chat completions request body; the provider's status and body.
    async fn complete(&self, body: String) -> Result<(u16, Vec<u8>), Self::Error>;

    /// Books `spent` against the reservation and releases the rest.
    async fn settle(&self, reservation: &Reservation, spent: i64) -> Result<(), Self::Error>;
}

/// What [`Ports::asker`] reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asker {
    pub strike_times: Vec<UnixSeconds>,
    pub notes: Vec<String>,
}

/// The pipeline's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The chat model's name, as the provider knows it.
    pub model: String,
    pub strikes: StrikePolicy,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    /// Notes that went into the prompt.
    pub notes_used: usize,
    /// Tokens booked against the `ai` budget.
    pub tokens: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Failure<E> {
    /// Earlier strikes hold a temporary block.
    TemporarilyBlocked {
        retry_after_secs: u64,
    },
    /// The input guard refused the question; a strike was recorded. `standing` is the asker's
    /// standing after it (a block starts at the policy's threshold).
    InputBlocked {
        strike: Strike,
        standing: Standing,
    },
    BudgetExhausted(BudgetExhausted),
    /// The model answered with an error or an unusable body (settled 0).
    Model(ModelError),
    /// The runtime failed (settled 0 where a reservation was open).
    Port(E),
}

/// The pipeline (see the crate docs): standing, input guard, `ai` reserve, model call, settle.
pub async fn answer<P: Ports>(
    ports: &P,
    settings: &Settings,
    question: &str,
) -> Result<Answer, Failure<P::Error>> {
    let lookback = settings.strikes.lookback_secs;
    let asker = ports.asker(lookback).await.map_err(Failure::Port)?;
    if let Standing::Blocked {
        retry_after_secs, ..
    } = settings.strikes.standing(&asker.strike_times, ports.now())
    {
        return Err(Failure::TemporarilyBlocked { retry_after_secs });
    }
    if let Inspection::Blocked(strike) = ports.inspect(question).await.map_err(Failure::Port)? {
        let times = ports
            .record_strike(&strike, lookback)
            .await
            .map_err(Failure::Port)?;
        let standing = settings.strikes.standing(&times, ports.now());
        return Err(Failure::InputBlocked { strike, standing });
    }
    let (request, notes_used) = ChatRequest::for_question(&settings.model, &asker.notes, question);
    let ceiling = request.token_ceiling();
    let reservation = ports
        .reserve(Meter::Ai, ceiling)
        .await
        .map_err(Failure::Port)?
        .map_err(Failure::BudgetExhausted)?;
    let outcome = match ports.complete(request.body()).await {
        Ok((status, body)) => parse_completion(status, &body).map_err(Failure::Model),
        Err(error) => Err(Failure::Port(error)),
    };
    match outcome {
        Ok(completion) => {
            let tokens = completion.total_tokens.unwrap_or(ceiling).clamp(0, ceiling);
            // A settle that fails leaves the reservation to expire, charged in full: the answer
            // is still the caller's.
            let tokens = match ports.settle(&reservation, tokens).await {
                Ok(()) => tokens,
                Err(_) => ceiling,
            };
            Ok(Answer {
                text: completion.text,
                notes_used,
                tokens,
            })
        }
        Err(failure) => {
            // A failed call costs nothing; if even this settle fails, the reservation expires
            // and is charged in full (the database's rule), which never lets a tenant overshoot.
            let _ = ports.settle(&reservation, 0).await;
            Err(failure)
        }
    }
}

#[cfg(test)]
mod tests;
