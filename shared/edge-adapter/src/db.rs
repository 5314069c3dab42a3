use rls_db::RequestInfo;
use serde_json::{Map, Value};
use tokio_postgres::config::SslMode;
use tokio_postgres::Client;
use worker::postgres_tls::PassthroughTls;
use worker::{Env, Request};

use crate::ApiError;

/// Opens a connection through the `DB` Hyperdrive binding (pooled in production; `wrangler dev`
/// points it at the local cluster). The connection is driven in the background of this request.
pub async fn connect_db(env: &Env) -> Result<Client, ApiError> {
    let hyperdrive = env.hyperdrive("DB").map_err(|_| ApiError::NotConfigured("DB (Hyperdrive binding)"))?;
    let socket = hyperdrive.connect().map_err(|_| ApiError::NotConfigured("DB (Hyperdrive connect)"))?;
    let mut config = tokio_postgres::Config::new();
    config
        .user(hyperdrive.user())
        .password(hyperdrive.password())
        .dbname(hyperdrive.database())
        // Hyperdrive terminates TLS to the origin itself; locally there is none.
        .ssl_mode(SslMode::Disable);
    let (client, connection) = config.connect_raw(socket, PassthroughTls).await?;
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = connection.await {
            worker::console_error!("database connection ended: {error}");
        }
    });
    Ok(client)
}

/// Headers never copied into `request.headers`: credentials and signatures stay out of the
/// database session (and out of any log that prints settings).
const WITHHELD_HEADERS: &[&str] = &["authorization", "cookie", "paddle-signature", "x-cron-secret"];

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
