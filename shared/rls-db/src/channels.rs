//! WhatsApp channels (sql/migrations/0012_messaging_channels.sql, 0027_channel_ownership.sql):
//! members list them and owners/admins disconnect them as themselves under RLS; connecting needs a
//! proof of ownership ([`edge_guard::ProvenPhoneNumber`]) and goes through the service-role-only
//! `public.connect_messaging_channel`, since no API role may write the table.

use edge_guard::ProvenPhoneNumber;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// The workspace's channels as a JSON array (oldest first). RLS decides what the caller sees:
/// another tenant's workspace yields `[]`.
pub async fn list(tx: &Transaction<'_>, workspace_id: &str) -> Result<String, DbError> {
    let rows = tx
        .query_typed(
            "select coalesce(json_agg(c order by c.created_at, c.id), '[]')::text
               from (select id, workspace_id, provider, phone_number_id, display_phone_number,
                            waba_id, created_by, created_at
                       from public.messaging_channels
                      where workspace_id = $1::uuid) c",
            &[(&workspace_id, Type::TEXT)],
        )
        .await?;
    single_value(rows)
}

/// What connecting a proven number did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connected {
    /// Connected now.
    New,
    /// This workspace had it already.
    Already,
    /// Another workspace has it (it proved ownership first and has not disconnected it).
    Taken,
    /// The workspace is not a live one of the caller's.
    NotFound,
    /// The caller is a member, but neither owner nor admin.
    Forbidden,
}

/// Connects the proven number to the proof's workspace for the proof's user.
pub async fn connect(
    tx: &Transaction<'_>,
    proof: &ProvenPhoneNumber,
) -> Result<Connected, DbError> {
    let rows = tx
        .query_typed(
            "select public.connect_messaging_channel($1::uuid, $2, $3, $4)",
            &[
                (&proof.workspace_id(), Type::TEXT),
                (&proof.waba_id(), Type::TEXT),
                (&proof.phone_number_id(), Type::TEXT),
                (&proof.display_phone_number(), Type::TEXT),
            ],
        )
        .await?;
    match single_value::<String>(rows)?.as_str() {
        "connected" => Ok(Connected::New),
        "already_connected" => Ok(Connected::Already),
        "taken" => Ok(Connected::Taken),
        "not_found" => Ok(Connected::NotFound),
        "forbidden" => Ok(Connected::Forbidden),
        _ => Err(DbError::UnexpectedResult(
            "connect_messaging_channel: unknown outcome",
        )),
    }
}

/// What disconnecting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnected {
    Done,
    /// The caller cannot see the channel (another tenant's, or none).
    NotFound,
    /// The caller sees it but the policies let only owners and admins remove it.
    Forbidden,
}

/// Removes a channel as the caller; RLS decides whether the row is visible and removable.
pub async fn disconnect(tx: &Transaction<'_>, channel_id: &str) -> Result<Disconnected, DbError> {
    let removed = tx
        .execute_typed(
            "delete from public.messaging_channels where id = $1::uuid",
            &[(&channel_id, Type::TEXT)],
        )
        .await?;
    if removed > 0 {
        return Ok(Disconnected::Done);
    }
    let visible: bool = single_value(
        tx.query_typed(
            "select exists (select 1 from public.messaging_channels where id = $1::uuid)",
            &[(&channel_id, Type::TEXT)],
        )
        .await?,
    )?;
    Ok(if visible {
        Disconnected::Forbidden
    } else {
        Disconnected::NotFound
    })
}
