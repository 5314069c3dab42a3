use serde_json::{json, Value};
use worker::{Headers, Response};

use crate::ApiError;

/// A successful JSON answer, built by a handler and sent by [`respond`].
#[derive(Debug)]
pub struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    /// 200 with a body that is already JSON text (e.g. built by Postgres).
    pub fn json_text(body: String) -> Self {
        Self { status: 200, body }
    }

    pub fn json(status: u16, value: Value) -> Self {
        Self {
            status,
            body: value.to_string(),
        }
    }
}

fn json_response(status: u16, body: String) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// Turns a handler's outcome into the response: every error as the one JSON shape
/// `{"error":{"code","message"}}`. Errors are logged by code and kind only: never a token,
/// a secret or a payload.
pub fn respond(outcome: Result<Reply, ApiError>) -> worker::Result<Response> {
    match outcome {
        Ok(reply) => json_response(reply.status, reply.body),
        Err(error) => {
            let (status, code, message) = error.status_code_message();
            match &error {
                ApiError::Db(db) => {
                    worker::console_error!("{code}: {db} (sqlstate {:?})", db.sql_state())
                }
                ApiError::NotConfigured(what) => worker::console_error!("{code}: {what}"),
                ApiError::Refused(_) => worker::console_log!("refused {status} {code}"),
            }
            json_response(
                status,
                json!({ "error": { "code": code, "message": message } }).to_string(),
            )
        }
    }
}
