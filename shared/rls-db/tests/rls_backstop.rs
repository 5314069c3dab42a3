//! The data path against the project's real Postgres (ci/test starts it, migrated and seeded).
//! Every test runs as a caller the guard produced, through `begin_as`, and rolls back.

use edge_guard::{
    CronCaller, JwtConfig, PaddleVerifier, SupabaseJwtVerifier, User, UserRequirement,
};
use hmac::{Hmac, Mac};
use jwt_simple::prelude::*;
use rls_db::{begin_as, notes, retention, webhook_events, Access, DbError, RequestInfo};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio_postgres::{Client, NoTls};

const TENANT_A: &str = "a0000000-0000-4000-8000-00000000000a";
const TENANT_B: &str = "b0000000-0000-4000-8000-00000000000b";
const USER_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const NOTE_OF_B: &str = "b1000000-0000-4000-8000-000000000001";

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests through ci/test"))
}

async fn connect() -> Client {
    let (client, connection) = tokio_postgres::connect(&env("RLS_EDGE_AUTHENTICATOR_URL"), NoTls)
        .await
        .expect("the local cluster is up (ci/test starts it)");
    tokio::spawn(connection);
    client
}

fn user(sub: &str) -> User {
    let secret = env("SUPABASE_JWT_SECRET");
    let custom: serde_json::Map<String, Value> = json!({"role": "authenticated"})
        .as_object()
        .unwrap()
        .clone();
    let claims = Claims::with_custom_claims(custom, Duration::from_mins(5))
        .with_subject(sub)
        .with_audience("authenticated");
    let token = HS256Key::from_bytes(secret.as_bytes())
        .authenticate(claims)
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    SupabaseJwtVerifier::hs256(secret.as_bytes(), &JwtConfig::default())
        .verify_user_token(&token, None, &UserRequirement::SIGNED_IN, now)
        .unwrap()
}

fn request(method: &str) -> RequestInfo {
    RequestInfo {
        method: method.into(),
        path: "/functions/v1/test".into(),
        headers: json!({}),
    }
}

/// A transaction as tenant A's user, opened the way every function opens one.
async fn as_user_a<'c>(
    client: &'c mut Client,
    access: Access,
    method: &str,
) -> tokio_postgres::Transaction<'c> {
    begin_as(client, &user(USER_A), access, &request(method))
        .await
        .unwrap()
}

fn workspace_ids(notes_json: &str) -> Vec<String> {
    let notes: Vec<Value> = serde_json::from_str(notes_json).unwrap();
    notes
        .iter()
        .map(|n| n["workspace_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_user_lists_only_their_tenants_notes_with_no_tenant_filter_in_the_query() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client, Access::ReadOnly, "GET").await;
    let ids = workspace_ids(&notes::list_visible(&tx, None).await.unwrap());
    assert!(
        ids.len() >= 2,
        "tenant A's seeded notes are visible: {ids:?}"
    );
    assert!(
        ids.iter().all(|id| id == TENANT_A),
        "only tenant A's rows: {ids:?}"
    );
}

#[tokio::test]
async fn asking_for_another_tenants_workspace_returns_nothing() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client, Access::ReadOnly, "GET").await;
    assert_eq!(
        notes::list_visible(&tx, Some(TENANT_B)).await.unwrap(),
        "[]"
    );
}

#[tokio::test]
async fn raw_sql_that_forgets_the_tenant_filter_still_sees_one_tenant() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client, Access::ReadOnly, "GET").await;
    let rows = tx
        .query("select distinct workspace_id::text from public.notes", &[])
        .await
        .unwrap();
    let tenants: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(tenants, vec![TENANT_A.to_owned()]);
    let b_rows = tx
        .query(
            "select id from public.notes where id = $1::text::uuid",
            &[&NOTE_OF_B],
        )
        .await
        .unwrap();
    assert!(
        b_rows.is_empty(),
        "tenant B's note is invisible to tenant A"
    );
}

#[tokio::test]
async fn a_user_cannot_write_into_another_tenant() {
    let mut client = connect().await;

    let tx = as_user_a(&mut client, Access::ReadWrite, "POST").await;
    let insert = tx
        .execute(
            "insert into public.notes (workspace_id, body) values ($1::text::uuid, 'planted')",
            &[&TENANT_B],
        )
        .await
        .map_err(DbError::from)
        .unwrap_err();
    assert!(matches!(insert, DbError::PermissionDenied(_)), "{insert:?}");
    assert_eq!(insert.status_and_code(), (403, "forbidden"));
    drop(tx);

    let tx = as_user_a(&mut client, Access::ReadWrite, "PATCH").await;
    let updated = tx
        .execute(
            "update public.notes set body = 'defaced' where id = $1::text::uuid",
            &[&NOTE_OF_B],
        )
        .await
        .unwrap();
    let deleted = tx
        .execute(
            "delete from public.notes where id = $1::text::uuid",
            &[&NOTE_OF_B],
        )
        .await
        .unwrap();
    assert_eq!(
        (updated, deleted),
        (0, 0),
        "RLS hides tenant B's row from UPDATE and DELETE"
    );
}

#[tokio::test]
async fn a_user_can_write_into_their_own_tenant() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client, Access::ReadWrite, "POST").await;
    let inserted = tx
        .execute(
            "insert into public.notes (workspace_id, body) values ($1::text::uuid, 'mine')",
            &[&TENANT_A],
        )
        .await
        .unwrap();
    assert_eq!(inserted, 1);
}

#[tokio::test]
async fn read_only_requests_cannot_write_even_their_own_rows() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client, Access::ReadOnly, "GET").await;
    let error = tx
        .execute(
            "insert into public.notes (workspace_id, body) values ($1::text::uuid, 'x')",
            &[&TENANT_A],
        )
        .await
        .map_err(DbError::from)
        .unwrap_err();
    assert_eq!(
        error.sql_state(),
        Some("25006"),
        "read_only_sql_transaction"
    );
}

#[tokio::test]
async fn identity_is_transaction_local_and_gone_after_commit() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client, Access::ReadOnly, "GET").await;
    let row = tx
        .query_one("select current_user::text, auth.uid()::text, auth.role(), current_setting('statement_timeout')", &[])
        .await
        .unwrap();
    let seen: (String, String, String, String) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(
        seen,
        (
            "authenticated".into(),
            USER_A.into(),
            "authenticated".into(),
            "8s".into()
        )
    );
    tx.commit().await.unwrap();

    let row = client
        .query_one(
            "select current_user::text, current_setting('request.jwt.claims', true)",
            &[],
        )
        .await
        .unwrap();
    let after: (String, String) = (row.get(0), row.get(1));
    assert_eq!(after, ("authenticator".into(), String::new()));
}

#[tokio::test]
async fn anon_can_read_no_tenant_data() {
    let client = connect().await;
    for table in [
        "notes",
        "workspaces",
        "memberships",
        "webhook_events",
        "cron_runs",
    ] {
        let error = client
            .batch_execute(&format!(
                "begin; select set_config('role', 'anon', true); select * from public.{table}; rollback;"
            ))
            .await
            .map_err(DbError::from)
            .unwrap_err();
        client.batch_execute("rollback").await.unwrap();
        assert!(
            matches!(error, DbError::PermissionDenied(_)),
            "anon on {table}: {error:?}"
        );
    }
}

fn paddle_delivery(event_id: &str) -> edge_guard::VerifiedWebhook {
    let body = json!({"event_id": event_id, "event_type": "transaction.completed",
                      "occurred_at": "2026-11-23T10:00:00Z", "data": {"id": "txn_1"}})
    .to_string();
    let now = 1_800_000_000;
    let mut mac = Hmac::<Sha256>::new_from_slice(b"pdl_ntfset_test").unwrap();
    mac.update(format!("{now}:{body}").as_bytes());
    let header = format!("ts={now};h1={}", hex::encode(mac.finalize().into_bytes()));
    PaddleVerifier::new(["pdl_ntfset_test"], 5)
        .unwrap()
        .verify(Some(&header), body.as_bytes(), now)
        .unwrap()
}

#[tokio::test]
async fn a_webhook_event_is_stored_once() {
    let mut client = connect().await;
    let event = paddle_delivery("evt_rlsdbtest000000000000000001");
    let tx = begin_as(&mut client, &event, Access::ReadWrite, &request("POST"))
        .await
        .unwrap();
    assert_eq!(
        webhook_events::store_once(&tx, &event).await.unwrap(),
        webhook_events::Stored::New
    );
    assert_eq!(
        webhook_events::store_once(&tx, &event).await.unwrap(),
        webhook_events::Stored::AlreadyStored
    );
    let row = tx
        .query_one(
            "select count(*), min(raw_body) from public.webhook_events where event_id = $1",
            &[&event.event_id()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 1);
    assert_eq!(
        row.get::<_, String>(1),
        event.raw_body(),
        "the exact signed bytes are kept"
    );
}

#[tokio::test]
async fn a_user_cannot_read_webhook_events() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client, Access::ReadOnly, "GET").await;
    let error = tx
        .query("select * from public.webhook_events", &[])
        .await
        .map_err(DbError::from)
        .unwrap_err();
    assert!(matches!(error, DbError::PermissionDenied(_)), "{error:?}");
}

#[tokio::test]
async fn retention_purges_old_processed_events_only_and_records_the_run() {
    let mut client = connect().await;
    let cron = CronCaller::from_declared_schedule(&["0 3 * * *"], "0 3 * * *").unwrap();
    let tx = begin_as(&mut client, &cron, Access::ReadWrite, &request("POST"))
        .await
        .unwrap();
    tx.batch_execute(
        "insert into public.webhook_events (provider, event_id, event_type, payload, raw_body, status, received_at) values
           ('paddle', 'evt_rlsdbtest_old_processed', 't', '{}', '{}', 'processed', now() - interval '91 days'),
           ('paddle', 'evt_rlsdbtest_old_received',  't', '{}', '{}', 'received',  now() - interval '91 days'),
           ('paddle', 'evt_rlsdbtest_new_processed', 't', '{}', '{}', 'processed', now() - interval '89 days')",
    )
    .await
    .unwrap();
    let purged = retention::purge_processed_webhook_events(&tx, &cron, 90)
        .await
        .unwrap();
    assert!(purged >= 1);
    let left: Vec<String> = tx
        .query("select event_id from public.webhook_events where event_id like 'evt_rlsdbtest_%' order by 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        left,
        ["evt_rlsdbtest_new_processed", "evt_rlsdbtest_old_received"]
    );
    let run = tx
        .query_one(
            "select trigger, rows_affected from public.cron_runs order by id desc limit 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (run.get::<_, String>(0), run.get::<_, i64>(1)),
        ("schedule".into(), purged)
    );
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_not_a_crash() {
    let error = tokio_postgres::connect("postgres://authenticator:x@127.0.0.1:9/postgres", NoTls)
        .await
        .map(|_| ())
        .map_err(DbError::from)
        .unwrap_err();
    assert_eq!(error.status_and_code(), (503, "database_unavailable"));
}
