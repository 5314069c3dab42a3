//! E-mail delivery events (Resend's, signed the Standard Webhooks way): each delivery is stored
//! once by `webhook-id` in the webhook mirror, filed under the workspace its e-mail was sent for,
//! and a bounce or complaint records the recipients in `email_suppressions` for that workspace
//! (sql/migrations/0030_email_suppressions.sql).
//!
//! Which tenant: the platform tags every e-mail it sends through Resend with
//! `workspace_id=<uuid>`; Resend echoes an e-mail's tags in each of its events (`data.tags`, an
//! object, or the `[{name, value}]` list the send API takes). The tag is inside the signed body,
//! so only the platform's own Resend account can set it. A delivery without that tag, with a tag
//! that is not a uuid, or naming no live workspace is still stored (under no tenant) and records
//! nothing: answering an error would only make Resend retry the same bytes.

use edge_guard::VerifiedWebhook;
use serde_json::Value;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::single_value;
use crate::webhook_events::{store_filed, Stored};
use crate::DbError;

/// The tag naming the tenant an e-mail was sent for.
pub const WORKSPACE_TAG: &str = "workspace_id";

/// What a stored delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub stored: Stored,
    /// Addresses newly suppressed for the tenant (0 for a retry, another event type, no tenant).
    pub suppressed: i32,
}

/// The suppression an event type means, if any.
pub fn suppression_reason(event_type: &str) -> Option<&'static str> {
    match event_type {
        "email.bounced" => Some("bounced"),
        "email.complained" => Some("complained"),
        _ => None,
    }
}

/// The `workspace_id` tag's value, from either shape Resend writes tags in.
pub fn workspace_tag(payload: &Value) -> Option<String> {
    let tags = payload.pointer("/data/tags")?;
    let value = match tags {
        Value::Object(map) => map.get(WORKSPACE_TAG),
        Value::Array(list) => list
            .iter()
            .find(|tag| tag.get("name").and_then(Value::as_str) == Some(WORKSPACE_TAG))
            .and_then(|tag| tag.get("value")),
        _ => None,
    }?;
    value
        .as_str()
        .filter(|v| edge_guard::is_uuid(v))
        .map(str::to_ascii_lowercase)
}

/// The recipients (`data.to`: a list, or one address as text).
pub fn recipients(payload: &Value) -> Vec<String> {
    match payload.pointer("/data/to") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// Stores the delivery once and, the first time a bounce or complaint for a live workspace is
/// stored, records its recipients for that workspace. A retry only counts an attempt.
pub async fn record(tx: &Transaction<'_>, event: &VerifiedWebhook) -> Result<Recorded, DbError> {
    let payload = event.payload();
    let workspace = match workspace_tag(payload) {
        Some(tag) => {
            let rows = tx
                .query_typed(
                    "select public.live_workspace($1::uuid)::text",
                    &[(&tag, Type::TEXT)],
                )
                .await?;
            single_value::<Option<String>>(rows)?
        }
        None => None,
    };
    let stored = store_filed(tx, event, workspace.as_deref()).await?;
    let reason = suppression_reason(event.event_type());
    let (Stored::New, Some(workspace), Some(reason)) = (stored, workspace, reason) else {
        return Ok(Recorded {
            stored,
            suppressed: 0,
        });
    };
    let email_id = payload.pointer("/data/email_id").and_then(Value::as_str);
    let occurred_at = payload
        .get("created_at")
        .and_then(Value::as_str)
        .filter(|t| edge_guard::is_rfc3339(t));
    let rows = tx
        .query_typed(
            "select public.record_email_suppressions($1::uuid, $2::text[], $3, $4, $5, $6::timestamptz)",
            &[
                (&workspace, Type::TEXT),
                (&recipients(payload), Type::TEXT_ARRAY),
                (&reason, Type::TEXT),
                (&email_id, Type::TEXT),
                (&event.event_id(), Type::TEXT),
                (&occurred_at, Type::TEXT),
            ],
        )
        .await?;
    Ok(Recorded {
        stored,
        suppressed: single_value::<i32>(rows)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const WS: &str = "a0000000-0000-4000-8000-00000000000a";

    #[test]
    fn the_workspace_tag_is_read_from_either_shape_and_must_be_a_uuid() {
        assert_eq!(
            workspace_tag(&json!({ "data": { "tags": { "workspace_id": WS } } })).as_deref(),
            Some(WS)
        );
        assert_eq!(
            workspace_tag(&json!({ "data": { "tags": [ { "name": "x", "value": "y" },
                { "name": "workspace_id", "value": WS.to_uppercase() } ] } }))
            .as_deref(),
            Some(WS)
        );
        assert_eq!(
            workspace_tag(&json!({ "data": { "tags": { "workspace_id": "x' or 1=1" } } })),
            None
        );
        assert_eq!(
            workspace_tag(&json!({ "data": { "tags": { "workspace_id": 7 } } })),
            None
        );
        assert_eq!(workspace_tag(&json!({ "data": {} })), None);
    }

    #[test]
    fn recipients_come_as_a_list_or_one_address() {
        assert_eq!(
            recipients(&json!({ "data": { "to": ["a@x.test", 3, "b@x.test"] } })),
            ["a@x.test", "b@x.test"]
        );
        assert_eq!(
            recipients(&json!({ "data": { "to": "c@x.test" } })),
            ["c@x.test"]
        );
        assert!(recipients(&json!({ "data": {} })).is_empty());
    }

    #[test]
    fn only_bounces_and_complaints_suppress() {
        assert_eq!(suppression_reason("email.bounced"), Some("bounced"));
        assert_eq!(suppression_reason("email.complained"), Some("complained"));
        assert_eq!(suppression_reason("email.delivered"), None);
    }
}
