//! How many times a request waits for Postgres (`run_as`, the path every function takes), counted
//! on the wire, and that pipelining never commits what failed. Runs against the project's real
//! Postgres (ci/test starts it); see BENCHMARKS.md for the figures.

#[path = "support/flight_counter.rs"]
mod flight_counter;

use std::sync::atomic::Ordering;

use edge_guard::User;
use rls_db::{begin_as, notes, run_as, webhook_events, Access, DbError, RequestInfo};
use serde_json::json;
use test_principals::{paddle_delivery, signed_in_user};
use tokio_postgres::NoTls;

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

#[tokio::test]
async fn a_single_statement_request_waits_for_postgres_three_times() {
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
    // BEGIN; the settings statement and the query in one flight; COMMIT. Four means the settings
    // are no longer pipelined with the query.
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
    // BEGIN, settings, query, COMMIT each awaited: what `run_as` saves one of.
    assert_eq!(flights.load(Ordering::SeqCst) - before, 4);
}

#[tokio::test]
async fn an_error_after_a_pipelined_statement_commits_nothing() {
    let (mut client, _) = counted_connection(&env("RLS_EDGE_AUTHENTICATOR_URL")).await;
    let event_id = format!(
        "evt_pipeline_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
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

    let (superuser, connection) = tokio_postgres::connect(&env("RLS_EDGE_SUPERUSER_URL"), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let stored: i64 = superuser
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
