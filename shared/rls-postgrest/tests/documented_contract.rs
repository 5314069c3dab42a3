//! The PostgREST data path against PostgREST's documented HTTP contract: a real local HTTP server
//! stands in for the API, records each request exactly as it arrived, asserts it against the docs
//! and answers as the docs say PostgREST answers. No PostgREST binary exists on the project's
//! machines, so this is the contract as documented, not a live server
//! (<https://docs.postgrest.org/en/v12/references/api.html>).

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration as StdDuration;

use edge_guard::CronCaller;
use rls_db::webhook_events::Stored;
use rls_db::{DataPath, DbError, RequestInfo};
use rls_postgrest::{error_from_response, ConfigError, PostgrestConfig, PostgrestPath};
use serde_json::{json, Value};
use test_principals::{paddle_delivery, signed_in_user};

const JWT_SECRET: &str = "test-jwt-secret-with-at-least-32-characters";
const ANON_KEY: &str = "anon-key.for-tests";
const SERVICE_KEY: &str = "service-role-key.for-tests";
const USER_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const TENANT_A: &str = "a0000000-0000-4000-8000-00000000000a";

/// One request as the server received it.
#[derive(Debug)]
struct Received {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json_body(&self) -> Value {
        serde_json::from_str(&self.body).expect("the request body is JSON")
    }

    /// No header anywhere in the request carries this secret.
    fn carries(&self, secret: &str) -> bool {
        self.headers.iter().any(|(_, v)| v.contains(secret))
            || self.body.contains(secret)
            || self.path.contains(secret)
    }
}

/// A local HTTP server that answers each request with the next canned reply, in order.
struct FakeApi {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    thread: JoinHandle<()>,
}

impl FakeApi {
    fn answering(replies: Vec<(u16, &str)>) -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind a local port");
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let replies: Vec<(u16, String)> = replies
            .into_iter()
            .map(|(status, body)| (status, body.to_owned()))
            .collect();
        let thread = std::thread::spawn(move || {
            for (status, body) in replies {
                // Bounded: a client that never calls ends the server instead of hanging the test.
                let Ok(Some(mut request)) = server.recv_timeout(StdDuration::from_secs(10)) else {
                    return;
                };
                let mut request_body = String::new();
                request
                    .as_reader()
                    .read_to_string(&mut request_body)
                    .unwrap();
                let url = reqwest::Url::parse(&format!("http://fake{}", request.url())).unwrap();
                log.lock().unwrap().push(Received {
                    method: request.method().to_string(),
                    path: url.path().to_owned(),
                    query: url.query_pairs().into_owned().collect(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body: request_body,
                });
                let content_type = tiny_http::Header::from_bytes(
                    "Content-Type",
                    "application/json; charset=utf-8",
                )
                .unwrap();
                let _ = request.respond(
                    tiny_http::Response::from_string(body)
                        .with_status_code(status)
                        .with_header(content_type),
                );
            }
        });
        Self {
            url,
            received,
            thread,
        }
    }

    fn path(&self) -> PostgrestPath {
        PostgrestPath::new(&PostgrestConfig {
            project_url: self.url.clone(),
            anon_key: ANON_KEY.into(),
            service_key: SERVICE_KEY.into(),
        })
        .unwrap()
    }

    /// Every request the server saw, once it has answered them all.
    fn requests(self) -> Vec<Received> {
        self.thread.join().unwrap();
        Arc::try_unwrap(self.received)
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

fn request_info() -> RequestInfo {
    RequestInfo {
        method: "GET".into(),
        path: "/functions/v1/notes".into(),
        headers: json!({}),
    }
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pairs.sort();
    pairs
}

fn sorted(mut query: Vec<(String, String)>) -> Vec<(String, String)> {
    query.sort();
    query
}

const TWO_NOTES: &str = r#"[{"id":"a1000000-0000-4000-8000-000000000002","workspace_id":"a0000000-0000-4000-8000-00000000000a","author_id":"aaaaaaaa-0000-4000-8000-000000000001","body":"Acme pricing draft","created_at":"2026-11-23T10:00:01.5+00:00"},
 {"id":"a1000000-0000-4000-8000-000000000001","workspace_id":"a0000000-0000-4000-8000-00000000000a","author_id":"aaaaaaaa-0000-4000-8000-000000000001","body":"Acme launch checklist","created_at":"2026-11-23T10:00:00+00:00"}]"#;

#[tokio::test]
async fn notes_are_read_with_the_users_own_token_and_the_documented_query_grammar() {
    let api = FakeApi::answering(vec![(200, TWO_NOTES)]);
    let user = signed_in_user(JWT_SECRET, USER_A);
    let token = user.access_token().to_owned();
    let notes = api
        .path()
        .list_visible_notes(&user, Some(TENANT_A), &request_info())
        .await
        .unwrap();
    let returned: Value = serde_json::from_str(&notes).unwrap();
    assert_eq!(returned, serde_json::from_str::<Value>(TWO_NOTES).unwrap());

    let requests = api.requests();
    let [request] = requests.as_slice() else {
        panic!("one request: {requests:?}")
    };
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/rest/v1/notes")
    );
    assert_eq!(
        sorted(request.query.clone()),
        pairs(&[
            ("select", "id,workspace_id,author_id,body,created_at"),
            ("order", "created_at.desc,id.asc"),
            ("workspace_id", &format!("eq.{TENANT_A}")),
        ])
    );
    assert_eq!(
        request.header("Authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(request.header("apikey"), Some(ANON_KEY));
    assert_eq!(request.header("Accept"), Some("application/json"));
    assert_eq!(request.header("Accept-Profile"), Some("public"));
    assert_eq!(request.header("Range-Unit"), Some("items"));
    assert_eq!(
        request.header("Range"),
        Some("0-99"),
        "one page, as the wire path's limit"
    );
    assert!(
        !request.carries(SERVICE_KEY),
        "a user's request must never carry the service key"
    );
}

#[tokio::test]
async fn without_a_workspace_no_filter_is_sent_and_rls_alone_decides() {
    let api = FakeApi::answering(vec![(200, "[]")]);
    let notes = api
        .path()
        .list_visible_notes(&signed_in_user(JWT_SECRET, USER_A), None, &request_info())
        .await
        .unwrap();
    assert_eq!(notes, "[]");
    let requests = api.requests();
    assert!(
        requests[0]
            .query
            .iter()
            .all(|(key, _)| key != "workspace_id"),
        "{:?}",
        requests[0].query
    );
}

#[tokio::test]
async fn a_workspace_id_that_is_not_a_uuid_is_refused_before_any_request() {
    let api = FakeApi::answering(vec![]);
    let error = api
        .path()
        .list_visible_notes(
            &signed_in_user(JWT_SECRET, USER_A),
            Some("x&workspace_id=neq.00000000-0000-0000-0000-000000000000"),
            &request_info(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, DbError::InvalidInput(_)), "{error:?}");
    assert_eq!(error.status_and_code(), (400, "invalid_input"));
    assert!(api.requests().is_empty(), "nothing reached the API");
}

#[tokio::test]
async fn a_webhook_event_is_stored_once_through_rpc_with_the_service_key() {
    let api = FakeApi::answering(vec![(200, "true"), (200, "false")]);
    let mut path = api.path();
    let event = paddle_delivery("evt_postgrest0000000000000001");
    assert_eq!(
        path.store_webhook_once(&event, &request_info())
            .await
            .unwrap(),
        Stored::New
    );
    assert_eq!(
        path.store_webhook_once(&event, &request_info())
            .await
            .unwrap(),
        Stored::AlreadyStored,
        "the function's false is a retry of a stored event"
    );

    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/rest/v1/rpc/record_webhook_event")
    );
    assert!(request.query.is_empty());
    assert_eq!(
        request.json_body(),
        json!({
            "p_provider": "paddle",
            "p_event_id": "evt_postgrest0000000000000001",
            "p_event_type": "transaction.completed",
            "p_occurred_at": "2026-11-23T10:00:00Z",
            "p_payload": event.payload(),
            "p_raw_body": event.raw_body(),
        }),
        "named arguments, p_workspace_id left to its default"
    );
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.header("Content-Profile"), Some("public"));
    assert_eq!(request.header("apikey"), Some(SERVICE_KEY));
    assert_eq!(
        request.header("Authorization"),
        Some(format!("Bearer {SERVICE_KEY}").as_str())
    );
}

#[tokio::test]
async fn retention_is_an_rpc_call_with_an_interval_and_the_trigger() {
    let api = FakeApi::answering(vec![(200, "3"), (200, "0")]);
    let mut path = api.path();
    let scheduled = CronCaller::from_declared_schedule(&["17 3 * * *"], "17 3 * * *").unwrap();
    assert_eq!(
        path.purge_processed_webhook_events(&scheduled, 90, &request_info())
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        path.purge_processed_webhook_events(&scheduled, 30, &request_info())
            .await
            .unwrap(),
        0
    );
    let requests = api.requests();
    assert_eq!(
        requests[0].path,
        "/rest/v1/rpc/purge_processed_webhook_events"
    );
    assert_eq!(
        requests[0].json_body(),
        json!({"p_retention": "90 days", "p_trigger": "schedule"})
    );
    assert_eq!(
        requests[1].json_body(),
        json!({"p_retention": "30 days", "p_trigger": "schedule"})
    );
    assert_eq!(requests[0].header("apikey"), Some(SERVICE_KEY));
}

/// An error response as the docs show it: `{code, message, details, hint}`.
fn pgrst_error(code: &str, message: &str) -> String {
    json!({"code": code, "message": message, "details": null, "hint": null}).to_string()
}

/// A documented error response, the answer our function then gives, and the SQLSTATE kept.
type ErrorCase = (u16, String, (u16, &'static str), Option<&'static str>);

#[tokio::test]
async fn documented_error_responses_map_to_the_wire_paths_db_errors() {
    #[rustfmt::skip]
    let cases: Vec<ErrorCase> = vec![
        // 42501: 401 when the request was anonymous, 403 when authenticated (errors.html).
        (
            401,
            pgrst_error("42501", "permission denied for table notes"),
            (403, "forbidden"),
            Some("42501"),
        ),
        (
            403,
            pgrst_error(
                "42501",
                "new row violates row-level security policy for table \"notes\"",
            ),
            (403, "forbidden"),
            Some("42501"),
        ),
        // JWT group: expired or invalid token.
        (
            401,
            pgrst_error("PGRST301", "JWT expired"),
            (403, "forbidden"),
            None,
        ),
        // Connection group: database down, pool timeout.
        (
            503,
            pgrst_error("PGRST000", "Could not connect with the database"),
            (503, "database_unavailable"),
            None,
        ),
        (
            503,
            pgrst_error(
                "PGRST002",
                "Could not query the database for the schema cache",
            ),
            (503, "database_unavailable"),
            None,
        ),
        (
            504,
            pgrst_error(
                "PGRST003",
                "Timed out acquiring connection from connection pool.",
            ),
            (503, "database_unavailable"),
            None,
        ),
        // Forwarded SQLSTATEs classified as on the wire.
        (
            400,
            pgrst_error("22P02", "invalid input syntax for type uuid"),
            (400, "invalid_input"),
            Some("22P02"),
        ),
        (
            409,
            pgrst_error("23505", "duplicate key value violates unique constraint"),
            (400, "invalid_input"),
            Some("23505"),
        ),
        (
            500,
            pgrst_error("57014", "canceling statement due to statement timeout"),
            (503, "database_unavailable"),
            Some("57014"),
        ),
        (
            503,
            pgrst_error("08006", "connection failure"),
            (503, "database_unavailable"),
            Some("08006"),
        ),
        // Schema cache or request errors are our defect, not the caller's.
        (
            404,
            pgrst_error(
                "PGRST202",
                "Could not find the function public.record_webhook_event in the schema cache",
            ),
            (500, "database_error"),
            None,
        ),
        (
            400,
            pgrst_error("PGRST100", "\"failed to parse filter\""),
            (500, "database_error"),
            None,
        ),
        (
            404,
            pgrst_error("42P01", "relation \"public.notes\" does not exist"),
            (500, "database_error"),
            Some("42P01"),
        ),
        // Not PostgREST's body at all: a gateway in front of it.
        (
            502,
            "<html>Bad Gateway</html>".into(),
            (503, "database_unavailable"),
            None,
        ),
        (
            401,
            "{\"message\":\"Invalid API key\"}".into(),
            (403, "forbidden"),
            None,
        ),
    ];
    for (status, body, answer, sql_state) in cases {
        let api = FakeApi::answering(vec![(status, &body)]);
        let error = api
            .path()
            .list_visible_notes(&signed_in_user(JWT_SECRET, USER_A), None, &request_info())
            .await
            .unwrap_err();
        assert_eq!(
            error.status_and_code(),
            answer,
            "{status} {body}: {error:?}"
        );
        assert_eq!(error.sql_state(), sql_state, "{status} {body}");
        // The same classification without the HTTP round trip.
        assert_eq!(error_from_response(status, &body).status_and_code(), answer);
        assert_eq!(api.requests().len(), 1);
    }
}

#[tokio::test]
async fn permission_denied_is_the_same_variant_as_on_the_wire() {
    let body = pgrst_error(
        "42501",
        "permission denied for function record_webhook_event",
    );
    let api = FakeApi::answering(vec![(403, &body)]);
    let error = api
        .path()
        .store_webhook_once(
            &paddle_delivery("evt_postgrest0000000000000002"),
            &request_info(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, DbError::PermissionDenied(_)), "{error:?}");
    api.requests();
}

#[tokio::test]
async fn an_unreachable_api_is_unavailable_not_a_crash() {
    // Bind then drop: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut path = PostgrestPath::new(&PostgrestConfig {
        project_url: format!("http://127.0.0.1:{port}"),
        anon_key: ANON_KEY.into(),
        service_key: SERVICE_KEY.into(),
    })
    .unwrap();
    let error = path
        .purge_processed_webhook_events(
            &CronCaller::from_declared_schedule(&["17 3 * * *"], "17 3 * * *").unwrap(),
            90,
            &request_info(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status_and_code(), (503, "database_unavailable"));
    assert!(
        !error.to_string().contains(SERVICE_KEY) && !format!("{error:?}").contains(SERVICE_KEY),
        "no key in the error"
    );
}

#[tokio::test]
async fn answers_of_the_wrong_shape_are_unexpected_results_not_panics() {
    let api = FakeApi::answering(vec![
        (200, "{\"id\":1}"),
        (200, "\"yes\""),
        (200, "12.5"),
        (200, "not json"),
    ]);
    let mut path = api.path();
    let user = signed_in_user(JWT_SECRET, USER_A);
    let cron = CronCaller::from_declared_schedule(&["17 3 * * *"], "17 3 * * *").unwrap();
    let event = paddle_delivery("evt_postgrest0000000000000003");
    let outcomes = [
        path.list_visible_notes(&user, None, &request_info())
            .await
            .unwrap_err(),
        path.store_webhook_once(&event, &request_info())
            .await
            .unwrap_err(),
        path.purge_processed_webhook_events(&cron, 90, &request_info())
            .await
            .unwrap_err(),
        path.purge_processed_webhook_events(&cron, 90, &request_info())
            .await
            .unwrap_err(),
    ];
    for error in outcomes {
        assert!(matches!(error, DbError::UnexpectedResult(_)), "{error:?}");
        assert_eq!(error.status_and_code(), (500, "database_error"));
    }
    assert_eq!(api.requests().len(), 4);
}

#[test]
fn keys_that_cannot_be_headers_are_a_configuration_error_not_a_panic() {
    let config = |url: &str, anon: &str, service: &str| PostgrestConfig {
        project_url: url.into(),
        anon_key: anon.into(),
        service_key: service.into(),
    };
    assert!(PostgrestPath::new(&config("https://ref.supabase.co/", ANON_KEY, SERVICE_KEY)).is_ok());
    for (bad, expected) in [
        (
            config("https://ref.supabase.co", "", SERVICE_KEY),
            "the anon key is empty or not a printable token",
        ),
        (
            config("https://ref.supabase.co", ANON_KEY, "key\r\nx-injected: 1"),
            "the service key is empty or not a printable token",
        ),
        (
            config("ref.supabase.co", ANON_KEY, SERVICE_KEY),
            "the project URL must be http(s)://…",
        ),
    ] {
        assert_eq!(PostgrestPath::new(&bad).err(), Some(ConfigError(expected)));
    }
}
