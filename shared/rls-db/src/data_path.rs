//! The operations a function needs, behind one interface with two implementations: the Postgres
//! wire ([`tokio_postgres::Client`], here) and PostgREST over HTTP (crate `rls-postgrest`). A
//! function takes `&mut impl DataPath` and is configured with either; both run the caller's
//! request under RLS as the same role, and fail with the same [`DbError`] variants.

use edge_guard::{CronCaller, User, VerifiedWebhook};
use tokio_postgres::Client;

use crate::webhook_events::Stored;
use crate::{notes, retention, run_as, webhook_events, Access, DbError, RequestInfo};

// `async fn` in a trait gives no `Send` bound on the futures: functions run on workerd's single
// thread, and no caller moves them across threads.
#[allow(async_fn_in_trait)]
pub trait DataPath {
    /// The user's visible notes as a JSON array (newest first, at most [`notes::PAGE_SIZE`]),
    /// optionally narrowed to one workspace. RLS decides which rows; this never filters tenants.
    async fn list_visible_notes(
        &mut self,
        user: &User,
        workspace_id: Option<&str>,
        request: &RequestInfo,
    ) -> Result<String, DbError>;

    /// Stores a verified delivery once per (provider, event id), as the service role.
    async fn store_webhook_once(
        &mut self,
        event: &VerifiedWebhook,
        request: &RequestInfo,
    ) -> Result<Stored, DbError>;

    /// Purges processed webhook events older than `retention_days` and records the run, as the
    /// service role. Returns how many were purged.
    async fn purge_processed_webhook_events(
        &mut self,
        caller: &CronCaller,
        retention_days: i32,
        request: &RequestInfo,
    ) -> Result<i64, DbError>;
}

/// The wire: each call is one transaction on this connection, run by [`run_as`] with what
/// PostgREST would set, committed when the call succeeds.
impl DataPath for Client {
    async fn list_visible_notes(
        &mut self,
        user: &User,
        workspace_id: Option<&str>,
        request: &RequestInfo,
    ) -> Result<String, DbError> {
        let workspace_id = workspace_id.map(str::to_owned);
        run_as(self, user, Access::ReadOnly, request, move |tx, _| {
            Box::pin(async move { notes::list_visible(tx, workspace_id.as_deref()).await })
        })
        .await
    }

    async fn store_webhook_once(
        &mut self,
        event: &VerifiedWebhook,
        request: &RequestInfo,
    ) -> Result<Stored, DbError> {
        run_as(self, event, Access::ReadWrite, request, |tx, event| {
            Box::pin(webhook_events::store_once(tx, event))
        })
        .await
    }

    async fn purge_processed_webhook_events(
        &mut self,
        caller: &CronCaller,
        retention_days: i32,
        request: &RequestInfo,
    ) -> Result<i64, DbError> {
        run_as(
            self,
            caller,
            Access::ReadWrite,
            request,
            move |tx, caller| {
                Box::pin(retention::purge_processed_webhook_events(
                    tx,
                    caller,
                    retention_days,
                ))
            },
        )
        .await
    }
}
