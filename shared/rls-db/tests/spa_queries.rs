//! The SPA's workspace queries against the project's real Postgres, as a signed-in user, rolled
//! back: what the functions run, without workerd in between (ci/test runs these).

use rls_db::{begin_as, invitations, members, profiles, workspaces, Access, RequestInfo};
use serde_json::{json, Value};
use test_principals::signed_in_user;
use tokio_postgres::NoTls;

const USER_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";

const TENANT_A: &str = "a0000000-0000-4000-8000-00000000000a";
const TENANT_B: &str = "b0000000-0000-4000-8000-00000000000b";

async fn as_user_a(client: &mut tokio_postgres::Client) -> tokio_postgres::Transaction<'_> {
    let user = signed_in_user(&std::env::var("SUPABASE_JWT_SECRET").unwrap(), USER_A);
    let request = RequestInfo {
        method: "POST".into(),
        path: "/functions/v1/test".into(),
        headers: json!({}),
    };
    begin_as(client, &user, Access::ReadWrite, &request)
        .await
        .unwrap()
}

async fn connect() -> tokio_postgres::Client {
    let url = std::env::var("RLS_EDGE_AUTHENTICATOR_URL").expect("run through ci/test");
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn members_invitations_and_profile_as_tenant_a_owner() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client).await;
    let listed: Value =
        serde_json::from_str(&members::list(&tx, TENANT_A).await.unwrap().unwrap()).unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["user_id"] == USER_A && m["role"] == "owner"));
    assert_eq!(
        members::list(&tx, TENANT_B)
            .await
            .unwrap()
            .unwrap_err()
            .status,
        404
    );
    let invited = invitations::create(&tx, TENANT_A, "Someone@Example.test", "admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(invited.email, "someone@example.test");
    assert_eq!(invited.token.len(), 64);
    assert!(!invited.json.contains(&invited.token));
    let pending = invitations::list_pending(&tx, TENANT_A)
        .await
        .unwrap()
        .unwrap();
    assert!(pending.contains(&invited.id), "{pending}");
    assert_eq!(
        invitations::create(&tx, TENANT_B, "x@example.test", "member")
            .await
            .unwrap()
            .unwrap_err()
            .status,
        404
    );
    // The owner's own e-mail is not the invitee's: the token opens nothing for them.
    assert_eq!(
        invitations::accept(&tx, &invited.token)
            .await
            .unwrap()
            .unwrap_err()
            .status,
        404
    );
    invitations::withdraw(&tx, TENANT_A, &invited.id)
        .await
        .unwrap()
        .unwrap();
    let profile: Value = serde_json::from_str(
        &profiles::put_own(&tx, "Ada", Some("https://cdn.test/a.png"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(profile["avatar_url"], "https://cdn.test/a.png");
    let read = profiles::get_own(&tx).await.unwrap().unwrap();
    assert!(read.contains("\"Ada\""), "{read}");
    assert_eq!(
        members::remove(&tx, TENANT_A, USER_A)
            .await
            .unwrap_err()
            .sql_state(),
        Some("42501")
    );
}

#[tokio::test]
async fn a_user_creates_renames_and_lists_a_workspace_as_its_owner() {
    let mut client = connect().await;
    let tx = as_user_a(&mut client).await;
    let created: Value =
        serde_json::from_str(&workspaces::create(&tx, "Data-path test").await.unwrap()).unwrap();
    assert_eq!(created["role"], "owner");
    let id = created["id"].as_str().unwrap();
    let renamed = workspaces::rename(&tx, id, "Renamed")
        .await
        .unwrap()
        .unwrap();
    assert!(renamed.contains("\"Renamed\""), "{renamed}");
    let mine: Value = serde_json::from_str(&workspaces::list_mine(&tx).await.unwrap()).unwrap();
    assert!(
        mine.as_array().unwrap().iter().any(|w| w["id"] == id),
        "{mine}"
    );
    // Rolled back on drop.
}
