//! How many times a request waits for Postgres (`run_as`, the path every function takes), counted
//! on the wire, and that pipelining never commits what failed. Runs against the project's real
//! Postgres (ci/test starts it); see BENCHMARKS.md for the figures.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use edge_guard::User;
use rls_db::{notes, run_as, webhook_events, Access, DbError, RequestInfo};
use serde_json::json;
use test_principals::{paddle_delivery, signed_in_user};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_postgres::{Client, NoTls};

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

/// Forwards one connection to Postgres and counts flights: bursts of client bytes sent after the
/// server last spoke. Requests written together (pipelined) arrive as one burst and count once;
/// a request that waited for the previous reply counts again.
async fn flight_counting_proxy(upstream: String) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let flights = Arc::new(AtomicUsize::new(0));
    let counter = flights.clone();
    tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut server = TcpStream::connect(upstream).await.unwrap();
        let (mut client_read, mut client_write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        let server_spoke = AtomicBool::new(true);
        let upward = async {
            let mut buffer = vec![0; 64 * 1024];
            while let Ok(n @ 1..) = client_read.read(&mut buffer).await {
                if server_spoke.swap(false, Ordering::SeqCst) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                server_write.write_all(&buffer[..n]).await.unwrap();
            }
        };
        let downward = async {
            let mut buffer = vec![0; 64 * 1024];
            while let Ok(n @ 1..) = server_read.read(&mut buffer).await {
                server_spoke.store(true, Ordering::SeqCst);
                if client_write.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        };
        tokio::join!(upward, downward);
    });
    (port, flights)
}

/// An `authenticator` connection through the counting proxy.
async fn counted_connection() -> (Client, Arc<AtomicUsize>) {
    let config: tokio_postgres::Config = env("RLS_EDGE_AUTHENTICATOR_URL").parse().unwrap();
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(host) => host.clone(),
        other => panic!("expected a TCP host, got {other:?}"),
    };
    let (port, flights) = flight_counting_proxy(format!("{host}:{}", config.get_ports()[0])).await;
    let mut proxied = tokio_postgres::Config::new();
    proxied
        .host("127.0.0.1")
        .port(port)
        .user(config.get_user().unwrap())
        .password(config.get_password().unwrap())
        .dbname(config.get_dbname().unwrap());
    let (client, connection) = proxied.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    (client, flights)
}

#[tokio::test]
async fn a_single_statement_request_waits_for_postgres_three_times() {
    let (mut client, flights) = counted_connection().await;
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
async fn an_error_after_a_pipelined_statement_commits_nothing() {
    let (mut client, _) = counted_connection().await;
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
    let (mut client, _) = counted_connection().await;
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
