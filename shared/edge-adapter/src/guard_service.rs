//! The input guard inside workerd: the guard worker (`workers/input-guard`), asked through the
//! `INPUT_GUARD` service binding, so the functions that ask do not carry its regular expressions
//! (BENCHMARKS.md, "Worker sizes: the input guard as its own worker"). The wire is
//! `input_guard`'s `service` module. Fail closed: a guard that cannot be reached or answers
//! anything but a verdict refuses the request (503 `upstream_unavailable`), never lets the text
//! through unchecked.

use input_guard::{InspectRequest, Inspection};
use worker::wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit};

use crate::{log_event, ApiError, Level};

/// The service binding to the guard worker (`[[services]]` in the function's wrangler.toml).
const BINDING: &str = "INPUT_GUARD";

/// The guard worker's verdict on `text` (its hash keyed by the guard worker's secret). Public
/// for the benchmark worker, which measures the round trip.
pub async fn inspect_remotely(env: &Env, text: &str) -> Result<Inspection, ApiError> {
    let guard = env
        .service(BINDING)
        .map_err(|_| ApiError::NotConfigured("INPUT_GUARD (service binding)"))?;
    let body = serde_json::to_string(&InspectRequest {
        text: text.to_owned(),
    })
    .map_err(|_| ApiError::Upstream("the input guard"))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let unavailable = |detail: String| {
        log_event(
            Level::Error,
            "input_guard_unavailable",
            &[("detail", detail.into())],
        );
        ApiError::Upstream("the input guard")
    };
    let request = Request::new_with_init("https://input-guard/inspect", &init)
        .map_err(|e| unavailable(e.to_string()))?;
    let mut response = guard
        .fetch_request(request)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let status = response.status_code();
    let answer = response
        .bytes()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    match Inspection::from_json(&answer) {
        Some(inspection) if status == 200 => Ok(inspection),
        _ => Err(unavailable(format!("answered {status} without a verdict"))),
    }
}
