//! The signed-in user's account as a whole: the export bundle and the deletion request
//! (sql/migrations/0044_account_data_rules.sql, 0045_account_deletion.sql). Which rows belong to
//! a user is the database's account data rules, never a list here.

use edge_guard::Refusal;
use futures_util::future::LocalBoxFuture;
use tokio_postgres::Transaction;

use crate::rows::optional_text;
use crate::DbError;

/// The bundle's `format`, and its `format_version`: raised on any change a reader must know of.
pub const EXPORT_FORMAT: &str = "rls-edge.account-export";
pub const EXPORT_FORMAT_VERSION: u32 = 1;

/// Rows fetched from the export cursor per round trip, and so at most in memory at once.
pub const EXPORT_PAGE_ROWS: u32 = 500;

/// Where the export goes, chunk by chunk (the response body, in a function).
pub trait ChunkSink {
    /// Hands on one chunk; fails when nobody reads any more (the client went away).
    fn send(&mut self, chunk: String) -> LocalBoxFuture<'_, Result<(), DbError>>;
}

/// Writes the caller's export bundle to `sink` as it is read from a cursor, one page of
/// [`EXPORT_PAGE_ROWS`] at a time: `{"format", "format_version", "user_id", "exported_at",
/// "tables": {"<table>": [<row>, …], …}}`, every table with an export rule present (empty when the
/// user has no rows there). Needs the transaction of a signed-in user at aal2.
pub async fn export(
    tx: &Transaction<'_>,
    user_id: &str,
    sink: &mut impl ChunkSink,
) -> Result<(), DbError> {
    let exported_at = optional_text(tx, "select to_jsonb(now()) #>> '{}'", &[])
        .await?
        .ok_or(DbError::UnexpectedResult("now() returned no row"))?;
    let mut bundle = BundleWriter::default();
    sink.send(bundle.open(user_id, &exported_at)).await?;
    tx.execute_typed(
        "declare account_export no scroll cursor for
           select table_name, row_data::text from private.account_export_rows()",
        &[],
    )
    .await?;
    let fetch = format!("fetch forward {EXPORT_PAGE_ROWS} from account_export");
    loop {
        let rows = tx.query_typed(&fetch, &[]).await?;
        if rows.is_empty() {
            break;
        }
        let mut chunk = String::new();
        for row in &rows {
            let table: String = row.try_get(0)?;
            match row.try_get::<_, Option<String>>(1)? {
                None => chunk.push_str(&bundle.table(&table)),
                Some(data) => chunk.push_str(&bundle.row(&data)),
            }
        }
        sink.send(chunk).await?;
    }
    sink.send(bundle.close()).await
}

/// The bundle's JSON text in pieces, each valid only in order: `open`, then per table `table`
/// followed by its `row`s, then `close`.
#[derive(Debug, Default)]
pub struct BundleWriter {
    in_table: bool,
    rows_in_table: u64,
}

impl BundleWriter {
    pub fn open(&mut self, user_id: &str, exported_at: &str) -> String {
        format!(
            "{{\"format\":{},\"format_version\":{EXPORT_FORMAT_VERSION},\"user_id\":{},\"exported_at\":{},\"tables\":{{",
            json_string(EXPORT_FORMAT),
            json_string(user_id),
            json_string(exported_at),
        )
    }

    pub fn table(&mut self, name: &str) -> String {
        let close_previous = if self.in_table { "]," } else { "" };
        self.in_table = true;
        self.rows_in_table = 0;
        format!("{close_previous}{}:[", json_string(name))
    }

    /// `row` is one record's JSON text, as Postgres wrote it.
    pub fn row(&mut self, row: &str) -> String {
        self.rows_in_table += 1;
        if self.rows_in_table == 1 {
            row.to_owned()
        } else {
            format!(",{row}")
        }
    }

    pub fn close(&mut self) -> String {
        if std::mem::take(&mut self.in_table) {
            "]}}".into()
        } else {
            "}}".into()
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

const NO_DELETION_PENDING: Refusal = Refusal::new(
    404,
    "no_deletion_pending",
    "this account has no pending deletion",
);
const DELETION_ALREADY_REQUESTED: Refusal = Refusal::new(
    409,
    "deletion_already_requested",
    "this account's deletion is already pending",
);

/// `{"pending": false}`, or `{"pending": true, "requested_at", "purge_after"}`.
pub async fn deletion_status(tx: &Transaction<'_>) -> Result<String, DbError> {
    optional_text(
        tx,
        "select coalesce(jsonb_build_object('pending', true) || private.account_deletion_status(),
                         '{\"pending\": false}')::text",
        &[],
    )
    .await?
    .ok_or(DbError::UnexpectedResult(
        "the deletion status returned no row",
    ))
}

/// Marks the caller's account for deletion: `{"requested_at", "purge_after",
/// "sole_owned_workspaces": [{"workspace_id", "successor": "transferred" | "deleted_with_account"}]}`.
pub async fn request_deletion(tx: &Transaction<'_>) -> Result<Result<String, Refusal>, DbError> {
    Ok(
        optional_text(tx, "select private.request_account_deletion()::text", &[])
            .await?
            .ok_or(DELETION_ALREADY_REQUESTED),
    )
}

/// Cancels the caller's pending deletion.
pub async fn cancel_deletion(tx: &Transaction<'_>) -> Result<Result<String, Refusal>, DbError> {
    let cancelled = optional_text(
        tx,
        "select case when private.cancel_account_deletion() then '{\"cancelled\": true}' end",
        &[],
    )
    .await?;
    Ok(cancelled.ok_or(NO_DELETION_PENDING))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pieces_make_one_json_bundle() {
        let mut bundle = BundleWriter::default();
        let mut text = bundle.open("u-1", "2026-12-01T00:00:00Z");
        text += &bundle.table("audit_log");
        text += &bundle.table("notes");
        text += &bundle.row(r#"{"id":1}"#);
        text += &bundle.row(r#"{"id":2}"#);
        text += &bundle.table("profiles");
        text += &bundle.row(r#"{"id":"u-1"}"#);
        text += &bundle.close();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["format"], EXPORT_FORMAT);
        assert_eq!(parsed["format_version"], EXPORT_FORMAT_VERSION);
        assert_eq!(parsed["tables"]["audit_log"], serde_json::json!([]));
        assert_eq!(parsed["tables"]["notes"].as_array().unwrap().len(), 2);
        assert_eq!(parsed["tables"]["profiles"][0]["id"], "u-1");
    }

    #[test]
    fn a_bundle_without_tables_is_still_json() {
        let mut bundle = BundleWriter::default();
        let text = bundle.open("u\"1", "now") + &bundle.close();
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["user_id"], "u\"1");
        assert_eq!(parsed["tables"], serde_json::json!({}));
    }
}
