//! What the assistant reads and writes as its caller: the workspace's notes it may quote (RLS
//! decides which: team notes and the caller's own private ones, never the trash), and the input
//! guard's strikes (sql/migrations/0035_input_guard_strikes.sql), kept per subject.

use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// The live notes the caller sees in the workspace, newest first, at most `limit` of them and
/// each cut to `max_chars` characters. [`DbError::NotFound`] when the workspace is not one RLS
/// shows the caller (another tenant's reads as absent).
pub async fn context_notes(
    tx: &Transaction<'_>,
    workspace_id: &str,
    limit: i64,
    max_chars: i32,
) -> Result<Vec<String>, DbError> {
    let row = tx
        .query_typed_one(
            "select exists (select 1 from public.workspaces w where w.id = $1::uuid),
                    array(select left(n.body, $3)
                            from public.notes n
                           where n.workspace_id = $1::uuid and n.deleted_at is null
                           order by n.created_at desc, n.id
                           limit $2)",
            &[
                (&workspace_id, Type::TEXT),
                (&limit, Type::INT8),
                (&max_chars, Type::INT4),
            ],
        )
        .await?;
    if !row.try_get::<_, bool>(0)? {
        return Err(DbError::NotFound);
    }
    Ok(row.try_get(1)?)
}

/// The team notes (never private ones or the trash) of the workspace that owns the WhatsApp
/// number `wamid` came in on, newest first, as [`context_notes`] cuts them; for the reply
/// consumer (service role), only while it holds the live claim on `wamid`
/// ([`crate::whatsapp_replies::claim`]): [`DbError::NotFound`] otherwise.
pub async fn whatsapp_context_notes(
    tx: &Transaction<'_>,
    wamid: &str,
    limit: i64,
    max_chars: i32,
) -> Result<Vec<String>, DbError> {
    let rows = tx
        .query_typed(
            "select public.whatsapp_context_notes($1, $2, $3)",
            &[
                (&wamid, Type::TEXT),
                (&limit, Type::INT8),
                (&max_chars, Type::INT4),
            ],
        )
        .await?;
    single_value::<Option<Vec<String>>>(rows)?.ok_or(DbError::NotFound)
}

/// The subject's strike times (Unix seconds) within the look-back. A user may only ask for
/// `user:<their id>` (42501 otherwise); the service role for any subject.
pub async fn strike_times(
    tx: &Transaction<'_>,
    subject: &str,
    lookback_secs: i32,
) -> Result<Vec<i64>, DbError> {
    let rows = tx
        .query_typed(
            "select private.input_guard_strike_times($1, $2)",
            &[(&subject, Type::TEXT), (&lookback_secs, Type::INT4)],
        )
        .await?;
    single_value(rows)
}

/// Records a strike (the category's code and a keyed hash of the text: never the text) and
/// answers the subject's strike times within the look-back, this one included.
pub async fn record_strike(
    tx: &Transaction<'_>,
    subject: &str,
    category: &str,
    keyed_hash: &str,
    lookback_secs: i32,
) -> Result<Vec<i64>, DbError> {
    let rows = tx
        .query_typed(
            "select private.record_input_guard_strike($1, $2, $3, $4)",
            &[
                (&subject, Type::TEXT),
                (&category, Type::TEXT),
                (&keyed_hash, Type::TEXT),
                (&lookback_secs, Type::INT4),
            ],
        )
        .await?;
    single_value(rows)
}
