//! Sessions (`sql/migrations/0042_session_revocation.sql`): signing the caller out everywhere.

use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::DbError;

/// Ends every session of the calling user (this one included) and returns `{"sessions_ended": n}`:
/// from their next request on, every function refuses the tokens of those sessions.
pub async fn sign_out_everywhere(tx: &Transaction<'_>) -> Result<String, DbError> {
    single_value(
        tx.query_typed(
            "select json_build_object('sessions_ended', private.sign_out_everywhere())::text",
            &[],
        )
        .await?,
    )
}
