//! What the RLS backstop costs: a tenant-scoped list on 1 M notes across 1,000 tenants, run as
//! the tenant's owner through the real data path (role + claims, policies on) and, in the same
//! run, as the superuser with an explicit tenant filter (RLS bypassed). Also counts the database
//! round trips one request makes, with a proxy that counts flights on the wire.
//!
//! Run with `ci/bench-rls` (it prepares a separate `rls_bench` database and the env below).

#[path = "../tests/support/flight_counter.rs"]
mod flight_counter;

use std::sync::atomic::Ordering;
use std::time::{Duration as StdDuration, Instant};

use edge_guard::User;
use rls_db::notes::{self, Shelf};
use rls_db::{begin_as, run_single_as, Access, RequestInfo};
use serde_json::json;
use test_principals::signed_in_user;
use tokio_postgres::{Client, NoTls};

use flight_counter::counted_connection;

const TENANTS: i64 = 1_000;
const NOTES_PER_TENANT: i64 = 1_000;
const ITERATIONS: usize = 2_000;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through ci/bench-rls"))
}

/// Tenant n's workspace id and its owner's user id (n in 1..=TENANTS).
fn tenant(n: i64) -> (String, String) {
    (
        format!("5e000000-0000-4000-8000-{n:012}"),
        format!("5f000000-0000-4000-8000-{n:012}"),
    )
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

/// Loads the tenants once; later runs reuse them.
async fn load(superuser: &Client) {
    let (first_workspace, _) = tenant(1);
    let loaded = superuser
        .query_opt(
            "select 1 from public.workspaces where id = $1::text::uuid",
            &[&first_workspace],
        )
        .await
        .unwrap()
        .is_some();
    if loaded {
        return;
    }
    eprintln!("loading {TENANTS} tenants × {NOTES_PER_TENANT} notes");
    superuser
        .batch_execute(&format!(
            "insert into public.workspaces (id, name)
               select ('5e000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'bench ' || n
                 from generate_series(1, {TENANTS}) n;
             insert into public.memberships (workspace_id, user_id, role)
               select ('5e000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
                      ('5f000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'owner'
                 from generate_series(1, {TENANTS}) n;
             insert into public.notes (workspace_id, author_id, body, created_at)
               select ('5e000000-0000-4000-8000-' || lpad(t::text, 12, '0'))::uuid,
                      ('5f000000-0000-4000-8000-' || lpad(t::text, 12, '0'))::uuid,
                      'note ' || i || ' of tenant ' || t,
                      now() - make_interval(mins => i)
                 from generate_series(1, {TENANTS}) t, generate_series(1, {NOTES_PER_TENANT}) i;
             analyze;"
        ))
        .await
        .unwrap();
}

fn user(sub: &str) -> User {
    signed_in_user(&env("SUPABASE_JWT_SECRET"), sub)
}

fn request() -> RequestInfo {
    RequestInfo {
        method: "GET".into(),
        path: "/functions/v1/notes".into(),
        headers: json!({}),
    }
}

/// One request of the notes function: transaction as the owner, the list, commit.
/// Returns (whole request, list query alone) and checks the page holds only the tenant's rows.
async fn owner_request(client: &mut Client, n: i64, filter: bool) -> (StdDuration, StdDuration) {
    let (workspace, owner) = tenant(n);
    let start = Instant::now();
    let tx = begin_as(client, &user(&owner), Access::ReadOnly, &request())
        .await
        .unwrap();
    let query_start = Instant::now();
    let page = notes::list_visible(&tx, filter.then_some(workspace.as_str()))
        .await
        .unwrap();
    let query = query_start.elapsed();
    tx.commit().await.unwrap();
    let whole = start.elapsed();
    assert_single_tenant(&page, &workspace);
    (whole, query)
}

/// The same page as the superuser (RLS bypassed) with the tenant filter written out.
async fn superuser_request(client: &mut Client, n: i64) -> (StdDuration, StdDuration) {
    let (workspace, _) = tenant(n);
    let start = Instant::now();
    let tx = client.transaction().await.unwrap();
    let query_start = Instant::now();
    let page = notes::list_visible(&tx, Some(&workspace)).await.unwrap();
    let query = query_start.elapsed();
    tx.commit().await.unwrap();
    let whole = start.elapsed();
    assert_single_tenant(&page, &workspace);
    (whole, query)
}

fn assert_single_tenant(page: &str, workspace: &str) {
    let rows: Vec<serde_json::Value> = serde_json::from_str(page).unwrap();
    assert_eq!(rows.len() as i64, notes::PAGE_SIZE.min(NOTES_PER_TENANT));
    assert!(
        rows.iter().all(|r| r["workspace_id"] == workspace),
        "a page crossed tenants"
    );
}

#[derive(Default)]
struct Samples {
    whole: Vec<StdDuration>,
    query: Vec<StdDuration>,
}

impl Samples {
    fn push(&mut self, (whole, query): (StdDuration, StdDuration)) {
        self.whole.push(whole);
        self.query.push(query);
    }
}

fn percentile(samples: &mut [StdDuration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() - 1) as f64 * p).round() as usize;
    samples[index].as_secs_f64() * 1e3
}

/// Times a single-statement request waits for Postgres on the path the notes list takes
/// (`run_single_as`), counted on the wire.
async fn round_trips_per_request(authenticator_url: &str) -> usize {
    let (client, flights) = counted_connection(authenticator_url).await;
    let before = flights.load(Ordering::SeqCst);
    run_single_as(
        &client,
        &user(&tenant(1).1),
        Access::ReadOnly,
        &request(),
        notes::list(None, Shelf::Live),
    )
    .await
    .unwrap();
    flights.load(Ordering::SeqCst) - before
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let superuser_url = env("RLS_BENCH_SUPERUSER_URL");
    let authenticator_url = env("RLS_BENCH_AUTHENTICATOR_URL");
    let mut superuser = connect(&superuser_url).await;
    load(&superuser).await;
    let mut authenticator = connect(&authenticator_url).await;

    let mut owner_filtered = Samples::default();
    let mut owner_unfiltered = Samples::default();
    let mut superuser_filtered = Samples::default();
    // Interleaved, tenant by tenant, so drift on this shared machine hits every variant alike.
    for i in 0..ITERATIONS + 100 {
        let n = (i as i64 * 7919) % TENANTS + 1;
        let a = owner_request(&mut authenticator, n, true).await;
        let b = owner_request(&mut authenticator, n, false).await;
        let c = superuser_request(&mut superuser, n).await;
        if i >= 100 {
            owner_filtered.push(a);
            owner_unfiltered.push(b);
            superuser_filtered.push(c);
        }
    }
    let round_trips = round_trips_per_request(&authenticator_url).await;

    let mut rows = [
        ("owner, policies on, `workspace=` filter", owner_filtered),
        (
            "owner, policies on, no filter (RLS alone)",
            owner_unfiltered,
        ),
        (
            "superuser, RLS bypassed, explicit filter",
            superuser_filtered,
        ),
    ];
    let baseline = percentile(&mut rows[2].1.query, 0.5);
    println!("\n{TENANTS} tenants × {NOTES_PER_TENANT} notes; {ITERATIONS} requests each, interleaved; page of {}", notes::PAGE_SIZE);
    println!("| caller | list query median (ms) | p95 | vs. superuser | whole request median (ms) | p95 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, samples) in rows.iter_mut() {
        let query = percentile(&mut samples.query, 0.5);
        println!(
            "| {name} | {query:.3} | {:.3} | {:.2}× | {:.3} | {:.3} |",
            percentile(&mut samples.query, 0.95),
            query / baseline,
            percentile(&mut samples.whole, 0.5),
            percentile(&mut samples.whole, 0.95),
        );
    }
    println!(
        "\nDatabase round trips (flights) per notes request on the Postgres path: {round_trips}"
    );
}
