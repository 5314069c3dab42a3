use serde_json::{json, Value};
use worker::{Headers, Response};

use crate::browser::add_security_headers;
use crate::{log_event, ApiError, Level};

/// A successful answer, built by a handler and sent by [`respond`].
#[derive(Debug)]
pub enum Reply {
    Json {
        status: u16,
        body: String,
    },
    /// A plain-text body (Meta's subscribe handshake answers its challenge this way).
    Text {
        status: u16,
        body: String,
    },
    /// Another worker's response, passed on unchanged (the gateway).
    Forwarded(Response),
    /// A streamed body (a stored file), built with its headers and the security headers.
    Stream(Response),
}

impl Reply {
    /// 200 with a body that is already JSON text (e.g. built by Postgres).
    pub fn json_text(body: String) -> Self {
        Reply::Json { status: 200, body }
    }

    pub fn json(status: u16, value: Value) -> Self {
        Reply::Json {
            status,
            body: value.to_string(),
        }
    }

    pub fn plain_text(status: u16, body: String) -> Self {
        Reply::Text { status, body }
    }
}

fn json_response(status: u16, body: String) -> worker::Result<Response> {
    response(status, "application/json; charset=utf-8", body)
}

fn with_retry_after(
    mut response: Response,
    retry_after_secs: Option<u64>,
) -> worker::Result<Response> {
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .set("retry-after", &secs.to_string())?;
    }
    Ok(response)
}

fn response(status: u16, content_type: &str, body: String) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", content_type)?;
    add_security_headers(&headers)?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// Turns a handler's outcome into the response: every error as the one JSON shape
/// `{"error":{"code","message"}}`, plus `field` for a body that did not parse. Errors are logged by code and kind only: never a token,
/// a secret or a payload.
pub fn respond(outcome: Result<Reply, ApiError>) -> worker::Result<Response> {
    match outcome {
        Ok(Reply::Json { status, body }) => json_response(status, body),
        Ok(Reply::Text { status, body }) => response(status, "text/plain; charset=utf-8", body),
        Ok(Reply::Forwarded(response) | Reply::Stream(response)) => Ok(response),
        Err(error) => {
            let (status, code, message) = error.status_code_message();
            let fields = [("status", status.into()), ("code", code.into())];
            match &error {
                ApiError::Db(db) => log_event(
                    Level::Error,
                    "request_failed",
                    &[
                        &fields[..],
                        &[
                            ("detail", db.to_string().into()),
                            ("sqlstate", format!("{:?}", db.sql_state()).into()),
                        ],
                    ]
                    .concat(),
                ),
                ApiError::NotConfigured(what) | ApiError::Upstream(what) => log_event(
                    Level::Error,
                    "request_failed",
                    &[&fields[..], &[("detail", (*what).into())]].concat(),
                ),
                ApiError::Refused(_) | ApiError::Invalid(_) | ApiError::Rejected(_) => {
                    log_event(Level::Info, "request_refused", &fields)
                }
            }
            let mut body = json!({ "error": { "code": code, "message": message } });
            if let ApiError::Invalid(input) = &error {
                body["error"]["field"] = input.field().into();
            }
            if let ApiError::Rejected(rejection) = &error {
                for (name, value) in &rejection.fields {
                    body["error"][*name] = value.as_str().into();
                }
                let response = json_response(status, body.to_string())?;
                return with_retry_after(response, rejection.retry_after_secs);
            }
            json_response(status, body.to_string())
        }
    }
}
