//! The webhook mirror: one row per provider event id, written before anything acts on it.

use edge_guard::VerifiedWebhook;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::DbError;

/// Whether this delivery was new or a retry of an event already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    AlreadyStored,
}

/// Stores the event once; a second delivery of the same (provider, event id) changes nothing.
pub async fn store_once(tx: &Transaction<'_>, event: &VerifiedWebhook) -> Result<Stored, DbError> {
    let rows = tx
        .query_typed(
            "insert into public.webhook_events (provider, event_id, event_type, occurred_at, payload, raw_body)
             values ($1, $2, $3, $4::timestamptz, $5::jsonb, $6)
             on conflict (provider, event_id) do nothing
             returning id",
            &[
                (&event.provider().as_str(), Type::TEXT),
                (&event.event_id(), Type::TEXT),
                (&event.event_type(), Type::TEXT),
                (&event.occurred_at(), Type::TEXT),
                (&event.payload().to_string(), Type::TEXT),
                (&event.raw_body(), Type::TEXT),
            ],
        )
        .await?;
    Ok(if rows.is_empty() {
        Stored::AlreadyStored
    } else {
        Stored::New
    })
}
