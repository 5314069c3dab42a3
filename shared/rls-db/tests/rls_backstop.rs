//! The data path against the project's real Postgres (ci/test starts it, migrated and seeded).
//! Every test runs as a caller the guard produced, through `begin_as`, and rolls back, except
//! where the service role's writes must be observed: service_role holds no table grant, so those
//! tests commit rows with unique ids and read them back over a superuser connection.

use edge_guard::{CronCaller, User};
use rls_db::{begin_as, notes, retention, webhook_events, Access, DataPath, DbError, RequestInfo};
use serde_json::{json, Value};
use test_principals::{paddle_delivery, signed_in_user};
use tokio_postgres::{Client, NoTls};

const TENANT_A: &str = "a0000000-0000-4000-8000-00000000000a";
const TENANT_B: &str = "b0000000-0000-4000-8000-00000000000b";
const USER_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const NOTE_OF_B: &str = "b1000000-0000-4000-8000-000000000001";

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run these tests through ci/test"))
}

async fn connect_to(url_variable: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(&env(url_variable), NoTls)
        .await
        .expect("the local cluster is up (ci/test starts it)");
    tokio::spawn(connection);
    client
}

/// As the data path connects: `authenticator`, which can only become the API roles.
async fn connect() -> Client {
    connect_to("RLS_EDGE_AUTHENTICATOR_URL").await
}

/// For planting and checking rows the API roles cannot reach (RLS does not apply to it).
async fn superuser() -> Client {
    connect_to("RLS_EDGE_SUPERUSER_URL").await
}

/// A suffix no earlier run used, for rows a test commits.
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}_{nanos}")
}

fn user(sub: &str) -> User {
    signed_in_user(&env("SUPABASE_JWT_SECRET"), sub)
}

fn request(method: &str) -> RequestInfo {
    request_with_headers(method, json!({}))
}

fn request_with_headers(method: &str, headers: Value) -> RequestInfo {
    RequestInfo {
        method: method.into(),
        path: "/functions/v1/test".into(),
        headers,
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
async fn the_wire_data_path_lists_the_same_notes_through_the_shared_interface() {
    let mut client = connect().await;
    let user = user(USER_A);
    let all = client
        .list_visible_notes(&user, None, &request("GET"))
        .await
        .unwrap();
    let ids = workspace_ids(&all);
    assert!(
        !ids.is_empty() && ids.iter().all(|id| id == TENANT_A),
        "{ids:?}"
    );
    let other = client
        .list_visible_notes(&user, Some(TENANT_B), &request("GET"))
        .await
        .unwrap();
    assert_eq!(other, "[]", "RLS hides tenant B through the interface too");
    let malformed = client
        .list_visible_notes(&user, Some("not-a-uuid"), &request("GET"))
        .await
        .unwrap_err();
    assert!(
        matches!(malformed, DbError::InvalidInput(_)),
        "{malformed:?}"
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

/// Every table in `public`, from the catalog: a table added later is covered without editing.
async fn public_tables(client: &Client) -> Vec<String> {
    client
        .query(
            "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn anon_can_read_no_tenant_data() {
    let client = connect().await;
    let tables = public_tables(&client).await;
    assert!(tables.len() >= 13, "{tables:?}");
    for table in tables {
        let outcome = client
            .batch_execute(&format!(
                "begin; select set_config('role', 'anon', true),
                               set_config('request.jwt.claims', '{{\"role\":\"anon\"}}', true);
                 do $$ begin
                   if exists (select from public.{table}) then raise exception 'anon sees rows'; end if;
                 end $$; rollback;"
            ))
            .await
            .map_err(DbError::from);
        client.batch_execute("rollback").await.unwrap();
        match (table.as_str(), outcome) {
            // Notes and files are granted to anon for share links: without a token, no row.
            ("notes" | "files", outcome) => {
                assert!(outcome.is_ok(), "anon on {table}: {outcome:?}")
            }
            (_, outcome) => assert!(
                matches!(outcome, Err(DbError::PermissionDenied(_))),
                "anon on {table}: {outcome:?}"
            ),
        }
    }
}

#[tokio::test]
async fn the_service_role_holds_no_table_grant() {
    let mut client = connect().await;
    let cron = CronCaller::from_declared_schedule(&["0 3 * * *"], "0 3 * * *").unwrap();
    for table in public_tables(&client).await {
        let tx = begin_as(&mut client, &cron, Access::ReadOnly, &request("POST"))
            .await
            .unwrap();
        let error = tx
            .query(&format!("select 1 from public.{table} limit 1"), &[])
            .await
            .map_err(DbError::from)
            .unwrap_err();
        assert!(
            matches!(error, DbError::PermissionDenied(_)),
            "service_role on {table}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_user_cannot_call_the_privileged_functions() {
    let mut client = connect().await;
    for call in [
        "select public.record_webhook_event('paddle', 'evt_x', 't', null, '{}', '{}')",
        "select public.purge_processed_webhook_events(interval '90 days', 'http')",
        "select public.purge_soft_deleted(interval '30 days', 'http')",
        "select public.workspace_for_phone_number('123')",
        "select public.count_rate_limit_hit('user', 'u', 'b', interval '1 minute')",
    ] {
        let tx = as_user_a(&mut client, Access::ReadWrite, "POST").await;
        let error = tx
            .query(call, &[])
            .await
            .map_err(DbError::from)
            .unwrap_err();
        assert!(
            matches!(error, DbError::PermissionDenied(_)),
            "{call}: {error:?}"
        );
    }
}

#[tokio::test]
async fn privileged_functions_refuse_bad_arguments() {
    let mut client = connect().await;
    let cron = CronCaller::from_declared_schedule(&["0 3 * * *"], "0 3 * * *").unwrap();
    for (call, state) in [
        ("select public.purge_processed_webhook_events(interval '1 hour', 'http')", "22023"),
        ("select public.purge_soft_deleted(interval '30 days', 'cli')", "22023"),
        ("select public.record_webhook_event('stripe', 'evt_x', 't', null, '{}', '{}')", "22023"),
        ("select public.record_webhook_event('paddle', '', 't', null, '{}', '{}')", "22023"),
        (
            "select public.record_webhook_event('meta', 'evt_x', 't', null, '{}', '{}', gen_random_uuid())",
            "23503",
        ),
    ] {
        let tx = begin_as(&mut client, &cron, Access::ReadWrite, &request("POST"))
            .await
            .unwrap();
        let error = tx
            .query(call, &[])
            .await
            .map_err(DbError::from)
            .unwrap_err();
        assert_eq!(error.sql_state(), Some(state), "{call}: {error:?}");
    }
}

#[tokio::test]
async fn a_webhook_event_is_stored_once() {
    let mut client = connect().await;
    let event = paddle_delivery(&unique("evt_rlsdbtest_once"));
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
    tx.commit().await.unwrap();
    let row = superuser()
        .await
        .query_one(
            "select count(*), min(raw_body), max(attempts) from public.webhook_events where event_id = $1",
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
    assert_eq!(row.get::<_, i32>(2), 2, "the retry counts as an attempt");
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

/// The latest run of `job` recorded in cron_runs: (trigger, rows affected).
async fn last_run(admin: &Client, job: &str) -> (String, i64) {
    let run = admin
        .query_one(
            "select trigger, rows_affected from public.cron_runs where job = $1 order by id desc limit 1",
            &[&job],
        )
        .await
        .unwrap();
    (run.get(0), run.get(1))
}

#[tokio::test]
async fn retention_purges_old_processed_events_only_and_records_the_run() {
    let admin = superuser().await;
    let tag = unique("evt_rlsdbtest_retention");
    admin
        .execute(
            "insert into public.webhook_events (provider, event_id, event_type, payload, raw_body, status, received_at) values
               ('paddle', $1 || '_old_processed', 't', '{}', '{}', 'processed', now() - interval '91 days'),
               ('paddle', $1 || '_old_received',  't', '{}', '{}', 'received',  now() - interval '91 days'),
               ('paddle', $1 || '_new_processed', 't', '{}', '{}', 'processed', now() - interval '89 days')",
            &[&tag],
        )
        .await
        .unwrap();
    let mut client = connect().await;
    let cron = CronCaller::from_declared_schedule(&["0 3 * * *"], "0 3 * * *").unwrap();
    let tx = begin_as(&mut client, &cron, Access::ReadWrite, &request("POST"))
        .await
        .unwrap();
    let purged = retention::purge_processed_webhook_events(&tx, &cron, 90)
        .await
        .unwrap();
    assert!(purged >= 1);
    tx.commit().await.unwrap();
    let left: Vec<String> = admin
        .query(
            "select event_id from public.webhook_events where event_id like $1 || '%' order by 1",
            &[&tag],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        left,
        [
            format!("{tag}_new_processed"),
            format!("{tag}_old_received")
        ]
    );
    assert_eq!(
        last_run(&admin, "purge_processed_webhook_events").await,
        ("schedule".into(), purged)
    );
}

#[tokio::test]
async fn soft_deleted_notes_and_workspaces_are_purged_after_the_grace_period() {
    let admin = superuser().await;
    let tag = unique("rlsdbtest_soft_delete");
    let row = admin
        .query_one(
            "with old_ws as (
               insert into public.workspaces (name, deleted_at) values ($1 || ' old', now() - interval '31 days') returning id),
             recent_ws as (
               insert into public.workspaces (name, deleted_at) values ($1 || ' recent', now() - interval '29 days') returning id),
             notes as (
               insert into public.notes (workspace_id, author_id, body, deleted_at) values
                 ($2::text::uuid, $3::text::uuid, $1 || ' old', now() - interval '31 days'),
                 ($2::text::uuid, $3::text::uuid, $1 || ' recent', now() - interval '29 days'),
                 ($2::text::uuid, $3::text::uuid, $1 || ' live', null)
               returning id)
             select (select id::text from old_ws), (select id::text from recent_ws)",
            &[&tag, &TENANT_A, &USER_A],
        )
        .await
        .unwrap();
    let (old_workspace, recent_workspace): (String, String) = (row.get(0), row.get(1));

    let mut client = connect().await;
    let cron = CronCaller::from_declared_schedule(&["0 4 * * *"], "0 4 * * *").unwrap();
    let tx = begin_as(&mut client, &cron, Access::ReadWrite, &request("POST"))
        .await
        .unwrap();
    let purged = retention::purge_soft_deleted(&tx, &cron, 30).await.unwrap();
    tx.commit().await.unwrap();
    assert!(purged >= 2, "the old note and the old workspace: {purged}");

    let notes_left: Vec<String> = admin
        .query(
            "select body from public.notes where body like $1 || '%' order by 1",
            &[&tag],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(notes_left, [format!("{tag} live"), format!("{tag} recent")]);
    let workspaces_left: Vec<String> = admin
        .query(
            "select id::text from public.workspaces where id::text in ($1, $2)",
            &[&old_workspace, &recent_workspace],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(workspaces_left, [recent_workspace.as_str()]);
    assert_eq!(last_run(&admin, "purge_soft_deleted").await.0, "schedule");
    admin
        .execute(
            "delete from public.workspaces where id = $1::text::uuid",
            &[&recent_workspace],
        )
        .await
        .unwrap();
    admin
        .execute(
            "delete from public.notes where body like $1 || '%'",
            &[&tag],
        )
        .await
        .unwrap();
}

/// A share link for one of tenant A's notes, committed; returns its raw token. `state` is
/// 'valid', 'expired' or 'revoked'.
async fn plant_share_link(admin: &Client, state: &str) -> String {
    let token = unique(&format!("share_{state}"));
    admin
        .execute(
            "insert into public.share_links (workspace_id, note_id, token_hash, created_by, created_at, expires_at, revoked_at)
             values ($1::text::uuid, 'a1000000-0000-4000-8000-000000000001', sha256(convert_to($2, 'UTF8')), $3::text::uuid,
                     now() - interval '2 days',
                     case when $4 = 'expired' then now() - interval '1 day' else now() + interval '1 day' end,
                     case when $4 = 'revoked' then now() end)",
            &[&TENANT_A, &token, &USER_A, &state],
        )
        .await
        .unwrap();
    token
}

#[tokio::test]
async fn a_share_token_in_the_request_headers_opens_exactly_its_note() {
    const USER_B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
    const SHARED_NOTE: &str = "a1000000-0000-4000-8000-000000000001";
    let admin = superuser().await;
    let mut client = connect().await;
    let valid = plant_share_link(&admin, "valid").await;
    let expired = plant_share_link(&admin, "expired").await;
    let revoked = plant_share_link(&admin, "revoked").await;
    for (token, expected) in [
        (valid.as_str(), vec![SHARED_NOTE.to_owned()]),
        (expired.as_str(), vec![]),
        (revoked.as_str(), vec![]),
        ("not-a-token", vec![]),
    ] {
        // A user of tenant B, through the Rust data path with the header PostgREST would copy.
        let headers = json!({ "x-share-token": token });
        let tx = begin_as(
            &mut client,
            &user(USER_B),
            Access::ReadOnly,
            &request_with_headers("GET", headers),
        )
        .await
        .unwrap();
        let seen: Vec<String> = tx
            .query(
                "select id::text from public.notes where workspace_id = $1::text::uuid",
                &[&TENANT_A],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(seen, expected, "token {token}");
    }
    admin
        .execute(
            "delete from public.share_links where token_hash in
               (select sha256(convert_to(t, 'UTF8')) from unnest($1::text[]) t)",
            &[&vec![valid, expired, revoked]],
        )
        .await
        .unwrap();
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
