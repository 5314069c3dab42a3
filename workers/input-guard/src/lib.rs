//! The input guard as a worker. `POST /inspect` with `{"text": "…"}` answers the guard's verdict
//! (`input_guard`'s `service` module: `{"verdict": "allowed"}` or the blocked category, kind and
//! keyed hash). The functions reach it only through their `INPUT_GUARD` service binding; anything
//! else is 404. The guard's Unicode forms come from the engine's ICU ([`unicode_forms`]).

mod unicode_forms;

use input_guard::{InputGuard, InspectRequest, MAX_INSPECT_REQUEST_BYTES};
use serde_json::json;
use worker::{event, Context, Env, Method, Request, Response, Result};

/// Keys the hash of every block (a secret of the deployment; only this worker holds it).
const HASH_KEY: &str = "INPUT_GUARD_HASH_KEY";

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if req.method() != Method::Post || req.path() != "/inspect" {
        return error(
            404,
            "route_not_found",
            "only POST /inspect, through the binding",
        );
    }
    let Some(key) = env
        .secret(HASH_KEY)
        .ok()
        .map(|key| key.to_string())
        .filter(|key| !key.trim().is_empty())
    else {
        return error(503, "not_configured", "INPUT_GUARD_HASH_KEY is not set");
    };
    let body = req.bytes().await?;
    if body.len() > MAX_INSPECT_REQUEST_BYTES {
        return error(
            413,
            "body_too_large",
            "the text is larger than any caller sends",
        );
    }
    let Ok(request) = serde_json::from_slice::<InspectRequest>(&body) else {
        return error(400, "invalid_body", "expected {\"text\": \"…\"}");
    };
    input_guard::register_unicode_forms(&unicode_forms::EngineForms);
    Response::from_json(&InputGuard::builtin().inspect_keyed(&request.text, key.as_bytes()))
}

fn error(status: u16, code: &str, message: &str) -> Result<Response> {
    Ok(
        Response::from_json(&json!({ "error": { "code": code, "message": message } }))?
            .with_status(status),
    )
}
