//! How many times a request waits for Postgres (`run_single_as` for single-statement handlers,
//! `run_as` for longer work), counted on the wire, and that pipelining never commits what failed
//! nor runs anything without the caller's settings. Runs against the project's real Postgres
//! (ci/test starts it); see BENCHMARKS.md for the figures.

#[path = "support/flight_counter.rs"]
mod flight_counter;

use std::sync::atomic::Ordering;

use edge_guard::User;
use rls_db::notes::{self, Shelf};
use rls_db::webhook_events::{self, Stored};
use rls_db::{begin_as, run_as, run_single_as, Access, DbError, RequestInfo};
use serde_json::{json, Value};
use test_principals::{paddle_delivery, signed_in_user};
use tokio_postgres::{Client, NoTls};

use flight_counter::counted_connection;

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests through ci/test"))
}

fn request(method: &str) -> RequestInfo {
    RequestInfo {
        method: method.into(),
        path: "/functions/v1/test".into(),
        headers: json!({}),
    }
}

fn user_a() -> User {
    signed_in_user(
        &env("SUPABASE_JWT_SECRET"),
        "aaaaaaaa-0000-4000-8000-000000000001",
    )
}

const USER_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const TENANT_A: &str = "a0000000-0000-4000-8000-00000000000a";
const TENANT_B: &str = "b0000000-0000-4000-8000-00000000000b";

async fn superuser() -> Client {
    let (client, connection) = tokio_postgres::connect(&env("RLS_EDGE_SUPERUSER_URL"), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn notes_with_body(body: &str) -> i64 {
    superuser()
        .await
        .query_one(
            "select count(*) from public.notes where body = $1",
            &[&body],
        )
        .await
        .unwrap()
        .get(0)
}

/// A note created by user A in one flight, `access` as given.
async fn create_as_a(
    client: &Client,
    access: Access,
    workspace: &str,
    body: &str,
    visibility: &str,
) -> Result<String, DbError> {
    run_single_as(
        client,
        &user_a(),
        access,
        &request("POST"),
        notes::create(workspace, body, visibility),
    )
    .await
}

#[tokio::test]
async fn a_single_statement_request_waits_for_postgres_once() {
    let (client, flights) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let before = flights.load(Ordering::SeqCst);
    let page = run_single_as(
        &client,
        &user_a(),
        Access::ReadOnly,
        &request("GET"),
        notes::list(None, Shelf::Live),
    )
    .await
    .unwrap();
    // BEGIN, the settings statement, the query and COMMIT written together: one wait.
    assert_eq!(flights.load(Ordering::SeqCst) - before, 1);
    // The policies saw the caller: only tenant A's notes (B has notes too).
    let page: Vec<Value> = serde_json::from_str(&page).unwrap();
    assert!(!page.is_empty());
    assert!(
        page.iter().all(|note| note["workspace_id"] == TENANT_A),
        "{page:?}"
    );
}

#[tokio::test]
async fn a_single_statement_write_runs_as_the_caller_and_commits() {
    let (client, flights) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let body = unique("one_flight_note");
    let before = flights.load(Ordering::SeqCst);
    let note = create_as_a(&client, Access::ReadWrite, TENANT_A, &body, "team")
        .await
        .unwrap();
    assert_eq!(flights.load(Ordering::SeqCst) - before, 1);
    let note: Value = serde_json::from_str(&note).unwrap();
    // author_id defaults to auth.uid(): the claims were set before the insert ran.
    assert_eq!(note["author_id"], USER_A);
    assert_eq!(notes_with_body(&body).await, 1, "committed");
}

#[tokio::test]
async fn a_failing_single_statement_rolls_back_and_leaves_the_connection_usable() {
    let (client, _) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let body = unique("one_flight_refused");
    // Tenant B's workspace: RLS hides it from A, so nothing is inserted and A hears 404.
    let refused = create_as_a(&client, Access::ReadWrite, TENANT_B, &body, "team").await;
    assert!(matches!(refused, Err(DbError::NotFound)), "{refused:?}");
    // A statement Postgres refuses (a visibility the column's check does not allow): the COMMIT
    // behind it became a ROLLBACK, so the connection is outside any transaction again.
    let failed = create_as_a(&client, Access::ReadWrite, TENANT_A, &body, "everyone").await;
    assert!(
        matches!(failed, Err(DbError::InvalidInput(_))),
        "{failed:?}"
    );
    // Were the aborted block still open, this would fail with 25P02.
    client.query_one("select 1", &[]).await.unwrap();
    assert_eq!(notes_with_body(&body).await, 0);
}

#[tokio::test]
async fn a_read_only_single_statement_cannot_write() {
    let (client, _) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let body = unique("one_flight_read_only");
    let refused = create_as_a(&client, Access::ReadOnly, TENANT_A, &body, "team").await;
    // 25006 read_only_sql_transaction: BEGIN … READ ONLY opened the block the insert ran in.
    assert_eq!(
        refused.as_ref().err().and_then(DbError::sql_state),
        Some("25006"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_paddle_delivery_is_stored_and_processed_in_one_round_trip() {
    let (client, flights) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let event_id = unique("evt_one_flight");
    let event = paddle_delivery(&event_id);
    let before = flights.load(Ordering::SeqCst);
    let (stored, outcome) = run_single_as(
        &client,
        &event,
        Access::ReadWrite,
        &request("POST"),
        webhook_events::store_and_process(&event, None),
    )
    .await
    .unwrap();
    assert_eq!(flights.load(Ordering::SeqCst) - before, 1);
    assert_eq!(stored, Stored::New);
    // Processing ran on the row stored by the same statement (it raises on an unknown event).
    let attempts: i32 = superuser()
        .await
        .query_one(
            "select processing_attempts from public.webhook_events
              where provider = 'paddle' and event_id = $1 and processed_at is not null",
            &[&event_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(attempts, 1, "{outcome}");
    // The retry: stored once, answered as a duplicate.
    let (again, _) = run_single_as(
        &client,
        &event,
        Access::ReadWrite,
        &request("POST"),
        webhook_events::store_and_process(&event, None),
    )
    .await
    .unwrap();
    assert_eq!(again, Stored::AlreadyStored);
}

#[tokio::test]
async fn multi_statement_work_waits_for_postgres_three_times() {
    let (mut client, flights) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let before = flights.load(Ordering::SeqCst);
    let page = run_as(
        &mut client,
        &user_a(),
        Access::ReadOnly,
        &request("GET"),
        |tx, _| Box::pin(notes::list_visible(tx, None)),
    )
    .await
    .unwrap();
    assert!(page.starts_with('['), "{page}");
    // `run_as`: BEGIN; the settings statement and the first query in one flight; COMMIT. Four
    // means the settings are no longer pipelined with the query.
    assert_eq!(flights.load(Ordering::SeqCst) - before, 3);
}

#[tokio::test]
async fn the_counter_sees_each_wait_of_an_unpipelined_request() {
    let (mut client, flights) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let before = flights.load(Ordering::SeqCst);
    let tx = begin_as(&mut client, &user_a(), Access::ReadOnly, &request("GET"))
        .await
        .unwrap();
    notes::list_visible(&tx, None).await.unwrap();
    tx.commit().await.unwrap();
    // BEGIN, settings, query, COMMIT each awaited: what `run_as` saves one of and
    // `run_single_as` three.
    assert_eq!(flights.load(Ordering::SeqCst) - before, 4);
}

#[tokio::test]
async fn an_error_after_a_pipelined_statement_commits_nothing() {
    let (mut client, _) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let event_id = unique("evt_pipeline");
    let event = paddle_delivery(&event_id);
    let outcome = run_as(
        &mut client,
        &event,
        Access::ReadWrite,
        &request("POST"),
        |tx, event| {
            Box::pin(async move {
                webhook_events::store_once(tx, event).await?;
                Err::<(), _>(DbError::NotFound)
            })
        },
    )
    .await;
    assert!(matches!(outcome, Err(DbError::NotFound)), "{outcome:?}");

    let stored: i64 = superuser()
        .await
        .query_one(
            "select count(*) from public.webhook_events where event_id = $1",
            &[&event_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        stored, 0,
        "the stored row was rolled back with the failed work"
    );
}

#[tokio::test]
async fn work_pipelined_behind_the_settings_runs_as_the_caller() {
    let (mut client, _) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let (role, sub) = run_as(
        &mut client,
        &user_a(),
        Access::ReadOnly,
        &request("GET"),
        |tx, _| {
            Box::pin(async move {
                let row = tx
                    .query_one("select current_user::text, auth.uid()::text", &[])
                    .await?;
                Ok((row.get::<_, String>(0), row.get::<_, String>(1)))
            })
        },
    )
    .await
    .unwrap();
    assert_eq!(role, "authenticated");
    assert_eq!(sub, "aaaaaaaa-0000-4000-8000-000000000001");
}
