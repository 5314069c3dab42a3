//! The webhook mirror: one row per provider event id, written before anything acts on it, through
//! the privileged `public.record_webhook_event` (sql/migrations/0006_webhook_events.sql, 0025):
//! the service role holds no grant on the table itself. Processing (0025, 0026) marks each row
//! processed or failed in the transaction that applies it.

use std::collections::BTreeSet;

use edge_guard::{VerifiedWebhook, WebhookProvider};
use serde_json::Value;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Row, Transaction};

use crate::error::single_value;
use crate::{DbError, SingleStatement};

/// Whether this delivery was new or a retry of an event already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    AlreadyStored,
}

/// Stores the event once; a second delivery of the same (provider, event id) only counts an
/// attempt, the first stored bytes stay. A Meta delivery is filed under the workspace its
/// business numbers belong to ([`meta_workspace`]); other providers' events under none.
pub async fn store_once(tx: &Transaction<'_>, event: &VerifiedWebhook) -> Result<Stored, DbError> {
    let workspace = match event.provider() {
        WebhookProvider::Meta => meta_workspace(tx, event.payload()).await?,
        _ => None,
    };
    store_filed(tx, event, workspace.as_deref()).await
}

/// As [`store_once`], filed under `workspace` (a live workspace's id, or none), for a function
/// that resolved the tenant itself.
pub async fn store_filed(
    tx: &Transaction<'_>,
    event: &VerifiedWebhook,
    workspace: Option<&str>,
) -> Result<Stored, DbError> {
    let stored = SingleStatement::new(
        format!("select {RECORD_EVENT}"),
        record_event_params(event, workspace),
        single_value,
    );
    Ok(Stored::from_new(stored.run(tx).await?))
}

/// Stores the event once (as [`store_filed`]) and processes it (`public.process_webhook_event`)
/// in one statement, the processing after the storing (the fenced subquery is evaluated first),
/// so a single-statement handler stores and applies a delivery in one round trip. Answers what
/// was stored and what processing concluded: `applied`, `stale`, `ignored`, `filed`, `unfiled`,
/// `already processed`, `awaiting payment fetch`, or `failed: <reason>` (a failure is recorded on
/// the row, never raised).
pub fn store_and_process<'a>(
    event: &'a VerifiedWebhook,
    workspace: Option<&'a str>,
) -> SingleStatement<'a, (Stored, String)> {
    SingleStatement::new(
        format!(
            "select s.stored, public.process_webhook_event($1, $2)
               from (select {RECORD_EVENT} as stored offset 0) s"
        ),
        record_event_params(event, workspace),
        stored_and_outcome,
    )
}

fn stored_and_outcome(rows: Vec<Row>) -> Result<(Stored, String), DbError> {
    let row = rows
        .into_iter()
        .next()
        .ok_or(DbError::UnexpectedResult("no row"))?;
    Ok((Stored::from_new(row.try_get(0)?), row.try_get(1)?))
}

/// The storing call; `$1` and `$2` are the provider and the event id.
const RECORD_EVENT: &str =
    "public.record_webhook_event($1, $2, $3, $4::timestamptz, $5::jsonb, $6, $7::uuid, $8)";

fn record_event_params<'a>(
    event: &'a VerifiedWebhook,
    workspace: Option<&'a str>,
) -> Vec<(Box<dyn ToSql + Sync + 'a>, Type)> {
    vec![
        (Box::new(event.provider().as_str()), Type::TEXT),
        (Box::new(event.event_id()), Type::TEXT),
        (Box::new(event.event_type()), Type::TEXT),
        (Box::new(event.occurred_at()), Type::TEXT),
        (
            Box::new(jsonb_safe(event.payload()).to_string()),
            Type::TEXT,
        ),
        (Box::new(event.raw_body()), Type::TEXT),
        (Box::new(workspace), Type::TEXT),
        (Box::new(event.resource_id()), Type::TEXT),
    ]
}

impl Stored {
    fn from_new(new: bool) -> Self {
        if new {
            Stored::New
        } else {
            Stored::AlreadyStored
        }
    }
}

/// The payload as jsonb can hold it: jsonb refuses the character U+0000 (`\u0000` in JSON text),
/// which a signed body may carry legitimately, and a refusal would answer every retry of that
/// delivery with an error forever. Each U+0000 in a string or key becomes U+FFFD; the exact
/// signed bytes stay in `raw_body`.
pub fn jsonb_safe(payload: &Value) -> std::borrow::Cow<'_, Value> {
    fn clean(text: &str) -> String {
        text.replace('\0', "\u{fffd}")
    }
    fn walk(value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(clean(s)),
            Value::Array(items) => Value::Array(items.iter().map(walk).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (clean(k), walk(v))).collect())
            }
            other => other.clone(),
        }
    }
    if payload.to_string().contains("\\u0000") {
        std::borrow::Cow::Owned(walk(payload))
    } else {
        std::borrow::Cow::Borrowed(payload)
    }
}

/// Applies a Mercado Pago payment fetched from the provider's API for the stored notification
/// `event_id`, marking it processed or failed in this transaction; returns the outcome.
pub async fn apply_mercadopago_payment(
    tx: &Transaction<'_>,
    event_id: &str,
    payment: &Value,
) -> Result<String, DbError> {
    let rows = tx
        .query_typed(
            "select public.apply_mercadopago_payment($1, $2::jsonb)",
            &[
                (&event_id, Type::TEXT),
                (&jsonb_safe(payment).to_string(), Type::TEXT),
            ],
        )
        .await?;
    single_value(rows)
}

/// Records why a stored event could not be processed (the replay tries it again later).
pub async fn record_failure(
    tx: &Transaction<'_>,
    provider: &str,
    event_id: &str,
    reason: &str,
) -> Result<String, DbError> {
    let rows = tx
        .query_typed(
            "select public.fail_webhook_event($1, $2, $3)",
            &[
                (&provider, Type::TEXT),
                (&event_id, Type::TEXT),
                (&reason, Type::TEXT),
            ],
        )
        .await?;
    single_value(rows)
}

/// One event the replay went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub provider: String,
    pub event_id: String,
    /// The signed resource id (Mercado Pago's `data.id`), when there is one.
    pub resource_id: Option<String>,
    pub outcome: String,
}

/// Processes up to `limit` stored events not processed yet (`public.replay_webhook_events`).
/// Mercado Pago events come back `awaiting payment fetch`: the caller fetches each payment and
/// calls [`apply_mercadopago_payment`].
pub async fn replay(tx: &Transaction<'_>, limit: i32) -> Result<Vec<Replayed>, DbError> {
    let rows = tx
        .query_typed(
            "select provider, event_id, resource_id, outcome from public.replay_webhook_events($1)",
            &[(&limit, Type::INT4)],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Replayed {
                provider: row.try_get(0)?,
                event_id: row.try_get(1)?,
                resource_id: row.try_get(2)?,
                outcome: row.try_get(3)?,
            })
        })
        .collect()
}

/// The outcome that asks the caller to fetch a Mercado Pago payment and apply it.
pub const AWAITING_PAYMENT_FETCH: &str = "awaiting payment fetch";

/// The business numbers a Meta delivery names:
/// `entry[].changes[].value.metadata.phone_number_id`, each once. Absent fields name none.
pub fn meta_phone_number_ids(payload: &Value) -> BTreeSet<String> {
    let array = |value: &Value, key: &str| -> Vec<Value> {
        value
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    array(payload, "entry")
        .iter()
        .flat_map(|entry| array(entry, "changes"))
        .filter_map(|change| {
            change
                .pointer("/value/metadata/phone_number_id")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect()
}

/// The one workspace a whole delivery belongs to: every number it names resolves (through
/// `public.workspace_for_phone_number`) to the same live workspace. A batch (Meta batches up to
/// 1000 updates per body, all under one signature and so one dedupe key) naming numbers of two
/// workspaces, or one known and one unknown number, is filed under none: the row cannot be
/// split, and filing it under either tenant would hand that tenant the other's messages. A
/// number that is not 1 to 32 digits is unknown rather than an error, so Meta's signed delivery
/// is still stored (an error would only make Meta retry the same bytes for days).
pub async fn meta_workspace(
    tx: &Transaction<'_>,
    payload: &Value,
) -> Result<Option<String>, DbError> {
    let named = meta_phone_number_ids(payload);
    if named.is_empty() || !named.iter().all(|id| is_phone_number_id(id)) {
        return Ok(None);
    }
    let named: Vec<String> = named.into_iter().collect();
    let rows = tx
        .query_typed(
            "select public.workspace_for_phone_number(id)::text from unnest($1::text[]) as id",
            &[(&named, Type::TEXT_ARRAY)],
        )
        .await?;
    let resolved: Vec<Option<String>> = rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(single_workspace(resolved))
}

/// What `public.workspace_for_phone_number` accepts.
fn is_phone_number_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// `Some` only when every number resolved, all to the same workspace.
fn single_workspace(resolved: Vec<Option<String>>) -> Option<String> {
    let distinct: BTreeSet<Option<String>> = resolved.into_iter().collect();
    match distinct.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(workspace)] => Some(workspace.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phone_number_ids_are_read_from_every_change_once() {
        let payload = json!({
            "object": "whatsapp_business_account",
            "entry": [
                { "changes": [
                    { "value": { "metadata": { "phone_number_id": "111" } } },
                    { "value": { "metadata": { "phone_number_id": "222" } } },
                    { "value": { "statuses": [] } }
                ] },
                { "changes": [ { "value": { "metadata": { "phone_number_id": "111" } } } ] },
                { "id": "no changes" }
            ]
        });
        assert_eq!(
            meta_phone_number_ids(&payload)
                .into_iter()
                .collect::<Vec<_>>(),
            ["111", "222"]
        );
        assert!(meta_phone_number_ids(&json!({ "object": "page", "entry": "x" })).is_empty());
        assert!(meta_phone_number_ids(
            &json!({ "entry": [ { "changes": [ { "value": { "metadata": { "phone_number_id": 7 } } } ] } ] })
        )
        .is_empty());
    }

    #[test]
    fn only_a_delivery_wholly_of_one_workspace_gets_it() {
        let a = || Some("a".to_owned());
        let b = || Some("b".to_owned());
        assert_eq!(single_workspace(vec![a()]), a());
        assert_eq!(single_workspace(vec![a(), a()]), a());
        assert_eq!(single_workspace(vec![a(), b()]), None);
        assert_eq!(single_workspace(vec![a(), None]), None);
        assert_eq!(single_workspace(vec![None]), None);
        assert_eq!(single_workspace(vec![]), None);
    }

    #[test]
    fn nul_characters_are_replaced_only_where_they_are() {
        let clean = json!({ "a": ["b", { "c": 1 }] });
        assert!(matches!(jsonb_safe(&clean), std::borrow::Cow::Borrowed(_)));
        let dirty: Value =
            serde_json::from_str(r#"{"k\u0000":["x\u0000y",{"z":"\\u0000"}]}"#).unwrap();
        assert_eq!(
            jsonb_safe(&dirty).into_owned(),
            json!({ "k\u{fffd}": ["x\u{fffd}y", { "z": "\\u0000" }] })
        );
    }

    #[test]
    fn phone_number_ids_outside_the_sql_format_are_unknown() {
        assert!(is_phone_number_id("106540352242922"));
        assert!(!is_phone_number_id(""));
        assert!(!is_phone_number_id("12a"));
        assert!(!is_phone_number_id(&"1".repeat(33)));
    }
}
