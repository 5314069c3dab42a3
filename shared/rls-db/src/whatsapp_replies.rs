//! Answering each inbound WhatsApp message once (sql/migrations/0038_whatsapp_replies.sql): the
//! reply consumer claims a message by its `wamid` before answering and finishes the claim after
//! Meta accepted the reply (or releases it with the reason it could not).

use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::DbError;

/// What claiming an inbound message said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Answer it now, for this workspace (the owner of the number).
    Claimed { workspace_id: String },
    /// A reply was sent already.
    Answered,
    /// Another consumer is answering it.
    InProgress,
    /// No workspace proved it owns the number: never answered.
    NotOurs,
}

/// Claims `wamid` (received on `phone_number_id` from `from`) for `claim_secs` seconds.
pub async fn claim(
    tx: &Transaction<'_>,
    wamid: &str,
    phone_number_id: &str,
    from: &str,
    claim_secs: i32,
) -> Result<Claim, DbError> {
    let rows = tx
        .query_typed(
            "select outcome, workspace_id::text from public.claim_whatsapp_reply($1, $2, $3, $4)",
            &[
                (&wamid, Type::TEXT),
                (&phone_number_id, Type::TEXT),
                (&from, Type::TEXT),
                (&claim_secs, Type::INT4),
            ],
        )
        .await?;
    let row = rows
        .first()
        .ok_or(DbError::UnexpectedResult("claim_whatsapp_reply: no row"))?;
    let outcome: String = row.try_get(0)?;
    let workspace: Option<String> = row.try_get(1)?;
    match (outcome.as_str(), workspace) {
        ("claimed", Some(workspace_id)) => Ok(Claim::Claimed { workspace_id }),
        ("answered", _) => Ok(Claim::Answered),
        ("in_progress", _) => Ok(Claim::InProgress),
        ("not_ours", _) => Ok(Claim::NotOurs),
        _ => Err(DbError::UnexpectedResult(
            "claim_whatsapp_reply: unknown outcome",
        )),
    }
}

/// Ends the claim on `wamid`: `Ok(reply_wamid)` marks it sent for good, `Err(code)` records why
/// not and releases it for the next delivery.
pub async fn finish(
    tx: &Transaction<'_>,
    wamid: &str,
    sent: Result<&str, &str>,
) -> Result<(), DbError> {
    let (reply_wamid, error) = match sent {
        Ok(reply) => (Some(reply), None),
        Err(code) => (None, Some(code)),
    };
    tx.query_typed(
        "select public.finish_whatsapp_reply($1, $2, $3)",
        &[
            (&wamid, Type::TEXT),
            (&reply_wamid, Type::TEXT),
            (&error, Type::TEXT),
        ],
    )
    .await?;
    Ok(())
}
