//! The checks a principal still needs from the database (`edge_guard::DbCheck`), run right after
//! the request's settings statement in the same flight: a token's session must still exist
//! (`sql/migrations/0042_session_revocation.sql`), a presented API key must be live and grant the
//! route's scope (`0041_api_key_callers.sql`). Their refusals arrive as SQLSTATE `PT401`/`PT403`
//! (PostgREST's "answer with this HTTP status" convention) whose message is the stable code;
//! [`refusal_for`] maps exactly the known ones, anything else stays a database error.

use edge_guard::{DbCheck, Refusal};
use tokio_postgres::types::Type;
use tokio_postgres::GenericClient;

use crate::DbError;

/// Every refusal a credential check in `sql/` raises, by its message.
const REFUSALS: &[Refusal] = &[
    Refusal::unauthenticated(
        "session_revoked",
        "this session has been signed out; sign in again",
    ),
    Refusal::unauthenticated("invalid_api_key", "the API key is not valid"),
    Refusal::unauthenticated("revoked_api_key", "the API key has been revoked"),
    Refusal::unauthenticated("expired_api_key", "the API key has expired"),
    Refusal::forbidden(
        "insufficient_scope",
        "the API key does not grant this action",
    ),
];

/// The refusal a check raised: SQLSTATE `PT<status>` with a known code as its message.
pub(crate) fn refusal_for(sql_state: &str, message: &str) -> Option<Refusal> {
    let status = sql_state.strip_prefix("PT")?;
    REFUSALS
        .iter()
        .find(|r| r.code == message && r.status.to_string() == status)
        .cloned()
}

/// Runs `check` on `client` (a transaction, or a connection whose BEGIN is already queued).
pub(crate) async fn run_check(
    client: &impl GenericClient,
    check: Option<DbCheck<'_>>,
) -> Result<(), DbError> {
    match check {
        None => Ok(()),
        Some(DbCheck::LiveSession { session_id }) => {
            client
                .query_typed(
                    "select private.require_live_session($1)",
                    &[(&session_id, Type::TEXT)],
                )
                .await?;
            Ok(())
        }
        Some(DbCheck::ApiKey {
            prefix,
            key_sha256,
            scope,
        }) => {
            let key_sha256 = key_sha256.as_slice();
            client
                .query_typed(
                    "select private.admit_api_key($1, $2, $3)",
                    &[
                        (&prefix, Type::TEXT),
                        (&key_sha256, Type::BYTEA),
                        (&scope, Type::TEXT),
                    ],
                )
                .await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_codes_with_their_own_status_are_refusals() {
        let revoked = refusal_for("PT401", "session_revoked").unwrap();
        assert_eq!((revoked.status, revoked.code), (401, "session_revoked"));
        assert_eq!(
            refusal_for("PT403", "insufficient_scope").unwrap().status,
            403
        );
        assert!(refusal_for("PT403", "session_revoked").is_none());
        assert!(refusal_for("PT401", "anything else").is_none());
        assert!(refusal_for("42501", "session_revoked").is_none());
    }
}
