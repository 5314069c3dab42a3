//! The webhook mirror: one row per provider event id, written before anything acts on it, through
//! the privileged `public.record_webhook_event` (sql/migrations/0006_webhook_events.sql): the
//! service role holds no grant on the table itself.

use edge_guard::VerifiedWebhook;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// Whether this delivery was new or a retry of an event already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    AlreadyStored,
}

/// Stores the event once; a second delivery of the same (provider, event id) only counts an
/// attempt, the first stored bytes stay.
pub async fn store_once(tx: &Transaction<'_>, event: &VerifiedWebhook) -> Result<Stored, DbError> {
    let rows = tx
        .query_typed(
            "select public.record_webhook_event($1, $2, $3, $4::timestamptz, $5::jsonb, $6)",
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
    Ok(if single_value::<bool>(rows)? {
        Stored::New
    } else {
        Stored::AlreadyStored
    })
}
