//! Small shapes the SPA queries share: text parameters cast in SQL, a row or a list built as JSON
//! text by Postgres, and the answer for a write that changed nothing.

use edge_guard::Refusal;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Transaction;

use crate::DbError;

/// Every parameter goes in as text and is cast in the SQL (`$1::uuid`): the statement stays
/// unnamed (Hyperdrive-friendly) and a value that does not cast is a 22P02 client error.
pub(crate) fn text_params<'a>(values: &'a [&'a str]) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    values
        .iter()
        .map(|v| (v as &(dyn ToSql + Sync), Type::TEXT))
        .collect()
}

/// The one text value of a statement's only row, or `None` when it returns no row or NULL.
pub(crate) async fn optional_text(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&str],
) -> Result<Option<String>, DbError> {
    let row = tx.query_typed_opt(sql, &text_params(params)).await?;
    // A NULL is "nothing" too (a `case` without a match), not a column that failed to decode.
    Ok(row
        .map(|r| r.try_get::<_, Option<String>>(0))
        .transpose()?
        .flatten())
}

/// Rows changed by a write.
pub(crate) async fn changed(
    tx: &Transaction<'_>,
    sql: &str,
    params: &[&str],
) -> Result<u64, DbError> {
    Ok(tx.execute_typed(sql, &text_params(params)).await?)
}

/// What a write that changed no row means, as RLS shows it to the caller: the row is hidden from
/// them (404: never reveal that it exists) or visible but not theirs to change (403).
pub(crate) async fn unchanged(
    tx: &Transaction<'_>,
    visible_sql: &str,
    params: &[&str],
    not_found: Refusal,
) -> Result<Refusal, DbError> {
    let visible = tx
        .query_typed_opt(visible_sql, &text_params(params))
        .await?
        .is_some();
    Ok(if visible { forbidden() } else { not_found })
}

pub(crate) const fn forbidden() -> Refusal {
    Refusal::forbidden(
        "forbidden",
        "your role in this workspace does not allow this",
    )
}

pub(crate) const WORKSPACE_NOT_FOUND: Refusal =
    Refusal::new(404, "workspace_not_found", "no such workspace among yours");
