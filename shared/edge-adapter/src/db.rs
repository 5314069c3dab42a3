use edge_guard::DbPrincipal;
use futures_channel::oneshot;
use futures_util::future::LocalBoxFuture;
use rls_db::{run_as, run_single_as, Access, DbError, RequestInfo, SingleStatement};
use serde_json::{Map, Value};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls, Transaction};
use worker::js_sys::Promise;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::future_to_promise;
use worker::{Env, Request};

use crate::db_socket::DbSocket;
use crate::{ApiError, Call, Reply};

/// Runs `work` in one transaction as `principal` (see `rls_db::run_as`: BEGIN, then the settings
/// with `work`'s statements in one flight, then COMMIT): committed when it succeeds, rolled back
/// when it fails.
///
/// After COMMIT succeeded the reply does not wait for the connection to close: Terminate is
/// queued and the socket closes behind the response, inside the request's `waitUntil`. On
/// failure the close is awaited, so the rollback is done before the error is answered.
///
/// `work` gets the transaction and the principal back, and owns anything else it needs:
/// `move |tx, principal| Box::pin(async move { … })`.
pub async fn in_transaction<P: DbPrincipal + 'static, T>(
    env: &Env,
    principal: &P,
    access: Access,
    request: &RequestInfo,
    work: impl for<'t> FnOnce(&'t Transaction<'t>, &'t P) -> LocalBoxFuture<'t, Result<T, DbError>>,
) -> Result<T, ApiError> {
    let mut connection = Connection::open(env).await?;
    let outcome = run_as(&mut connection.client, principal, access, request, work).await;
    connection.finish(outcome).await
}

/// Runs one statement in its own transaction as `principal`, in one round trip to Postgres (see
/// `rls_db::run_single_as`: BEGIN, the settings, `statement` and COMMIT written together; an
/// error rolls back). For handlers whose whole database work is that one statement; anything
/// longer takes [`in_transaction`]. The connection closes as [`in_transaction`]'s does.
pub async fn in_single_statement<T>(
    env: &Env,
    principal: &impl DbPrincipal,
    access: Access,
    request: &RequestInfo,
    statement: SingleStatement<'_, T>,
) -> Result<T, ApiError> {
    let connection = Connection::open(env).await?;
    let outcome = run_single_as(&connection.client, principal, access, request, statement).await;
    connection.finish(outcome).await
}

impl<P: DbPrincipal + 'static> Call<P> {
    /// A handler's usual whole body: `work` in one transaction as this call's principal
    /// ([`in_transaction`]), its JSON text answered with `status`.
    pub async fn answer_from_db(
        &self,
        access: Access,
        status: u16,
        work: impl for<'t> FnOnce(
            &'t Transaction<'t>,
            &'t P,
        ) -> LocalBoxFuture<'t, Result<String, DbError>>,
    ) -> Result<Reply, ApiError> {
        let body = in_transaction(
            &self.env,
            &self.principal,
            access,
            &request_info(&self.req),
            work,
        )
        .await?;
        Ok(Reply::Json { status, body })
    }

    /// [`Call::answer_from_db`] for a handler whose whole database work is one statement
    /// ([`in_single_statement`]: one round trip).
    pub async fn answer_single(
        &self,
        access: Access,
        status: u16,
        statement: SingleStatement<'_, String>,
    ) -> Result<Reply, ApiError> {
        let body = in_single_statement(
            &self.env,
            &self.principal,
            access,
            &request_info(&self.req),
            statement,
        )
        .await?;
        Ok(Reply::Json { status, body })
    }
}

/// A connection through the `DB` Hyperdrive binding (pooled in production; `wrangler dev`
/// points it at the local cluster), whose protocol task runs in the background of this request.
struct Connection {
    client: Client,
    finished: oneshot::Receiver<()>,
}

impl Connection {
    /// Opens a connection; one more attempt when the first broke before the server answered
    /// with an error (a socket closed during the handshake: nothing was sent to run, so trying
    /// again is safe). A refusal by the server (bad password, too many connections) is final.
    async fn open(env: &Env) -> Result<Self, ApiError> {
        match Self::open_once(env).await {
            Err(ApiError::Db(error @ DbError::Unavailable(_))) if error.sql_state().is_none() => {
                crate::log_event(
                    crate::Level::Warn,
                    "database_connect_retried",
                    &[("detail", format!("{:?}", error).into())],
                );
                Self::open_once(env).await
            }
            opened => opened,
        }
    }

    async fn open_once(env: &Env) -> Result<Self, ApiError> {
        let hyperdrive = env
            .hyperdrive("DB")
            .map_err(|_| ApiError::NotConfigured("DB (Hyperdrive binding)"))?;
        let socket = DbSocket::connect(&hyperdrive)
            .map_err(|_| ApiError::NotConfigured("DB (Hyperdrive connect)"))?;
        let mut config = tokio_postgres::Config::new();
        config
            .user(hyperdrive.user())
            .password(hyperdrive.password())
            .dbname(hyperdrive.database())
            // Hyperdrive terminates TLS to the origin itself; locally there is none.
            .ssl_mode(SslMode::Disable);
        // Whatever stops the connection from opening (origin down behind Hyperdrive, refused
        // login, pool exhausted) is transient for the caller: 503, so providers retry.
        let (client, connection) = config
            .connect_raw(socket, NoTls)
            .await
            .map_err(|error| ApiError::Db(DbError::Unavailable(error.into())))?;
        let (done, finished) = oneshot::channel();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = connection.await {
                crate::log_event(
                    crate::Level::Error,
                    "database_connection_ended",
                    &[("detail", error.to_string().into())],
                );
            }
            let _ = done.send(());
        });
        Ok(Self { client, finished })
    }

    /// Sends Terminate and waits until the socket is closed.
    async fn close(self) {
        drop(self.client);
        let _ = self.finished.await;
    }

    /// Sends Terminate and lets the close finish after the reply: the request is kept alive
    /// until the socket is closed (workerd's `waitUntil`), so the Terminate is written and the
    /// pooler or Postgres sees a clean goodbye rather than a dropped socket.
    fn close_behind_reply(self) {
        let closed = future_to_promise(async move {
            self.close().await;
            Ok(JsValue::UNDEFINED)
        });
        // Outside a request (no event to extend) the promise still runs to its end on its own.
        let _ = wait_until(&closed);
    }

    /// After the work's outcome: closes behind the reply when it succeeded, or waits for the close
    /// (the rollback done) before the error is answered.
    async fn finish<T>(self, outcome: Result<T, DbError>) -> Result<T, ApiError> {
        match outcome {
            Ok(value) => {
                self.close_behind_reply();
                Ok(value)
            }
            Err(error) => {
                self.close().await;
                Err(error.into())
            }
        }
    }
}

#[wasm_bindgen(module = "cloudflare:workers", wasm_bindgen = worker::wasm_bindgen)]
extern "C" {
    /// `ctx.waitUntil` of the event being served, found by workerd from the running code (so the
    /// database path needs no `Context` in its signature). Throws where no event is current.
    #[wasm_bindgen(js_name = waitUntil, catch)]
    fn wait_until(promise: &Promise) -> Result<(), JsValue>;
}

/// Headers never copied into `request.headers`: credentials and signatures stay out of the
/// database session (and out of any log that prints settings).
const WITHHELD_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "paddle-signature",
    "x-hub-signature-256",
    "x-hub-signature",
    "x-signature",
    "webhook-signature",
    "x-cron-secret",
    "x-api-key",
    "apikey",
    "proxy-authorization",
    "x-supabase-api-key",
];

/// The request details PostgREST exposes to SQL.
pub fn request_info(req: &Request) -> RequestInfo {
    let headers: Map<String, Value> = req
        .headers()
        .entries()
        .filter(|(name, _)| !WITHHELD_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value)))
        .collect();
    RequestInfo {
        method: req.method().to_string(),
        path: req.path(),
        headers: Value::Object(headers),
    }
}

impl<P: DbPrincipal + 'static> crate::Call<P> {
    /// [`in_transaction`] as this call's principal, with this request's details.
    pub async fn in_transaction<T>(
        &self,
        access: Access,
        work: impl for<'t> FnOnce(&'t Transaction<'t>, &'t P) -> LocalBoxFuture<'t, Result<T, DbError>>,
    ) -> Result<T, ApiError> {
        in_transaction(
            &self.env,
            &self.principal,
            access,
            &request_info(&self.req),
            work,
        )
        .await
    }
}
