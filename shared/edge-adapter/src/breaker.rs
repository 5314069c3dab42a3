//! The client side of the circuit breaker: each provider's breaker is one Durable Object
//! (`id_from_name(provider)`) of class `CircuitBreaker`, hosted by functions/circuit-breaker and
//! bound as `CIRCUIT_BREAKER` (`script_name = "circuit-breaker"`) in every function that calls a
//! provider. The policy is crate `breaker-policy`; [`crate::upstream`] asks before each call and
//! reports after it. A closed, healthy breaker costs one round trip to the object per call.

use breaker_policy::{Admission, Provider, Report};
use serde_json::Value;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit, Response};

use crate::{log_event, Level};

const BINDING: &str = "CIRCUIT_BREAKER";

/// One request to `provider`'s breaker object: `POST /admit`, `POST /report`, `GET /state`.
async fn ask(
    env: &Env,
    provider: Provider,
    method: Method,
    path: &str,
    body: Option<String>,
) -> worker::Result<Response> {
    let stub = env
        .durable_object(BINDING)?
        .id_from_name(provider.name())?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_body(body.map(|b| JsValue::from_str(&b)));
    let request = Request::new_with_init(&format!("https://circuit-breaker/{path}"), &init)?;
    let response = stub.fetch_with_request(request).await?;
    match response.status_code() {
        200 => Ok(response),
        status => Err(worker::Error::RustError(format!(
            "breaker answered {status}"
        ))),
    }
}

/// Whether a call to `provider` may go ahead. A breaker that cannot be asked (binding missing,
/// object unreachable) admits the call: the breaker protects providers and callers, it must not
/// become the outage itself. That is logged as an error.
pub(crate) async fn admit(env: &Env, provider: Provider) -> Admission {
    let answer = match ask(env, provider, Method::Post, "admit", None).await {
        Ok(mut response) => response.json::<Admission>().await,
        Err(error) => Err(error),
    };
    answer.unwrap_or_else(|error| {
        unreachable_breaker(provider, &error);
        Admission::Closed { failures: 0 }
    })
}

/// Reports how an admitted call went.
pub(crate) async fn report(env: &Env, provider: Provider, report: Report) {
    let body = serde_json::to_string(&report).unwrap_or_default();
    if let Err(error) = ask(env, provider, Method::Post, "report", Some(body)).await {
        unreachable_breaker(provider, &error);
    }
}

/// Every provider's breaker state, `{"<provider>": {"state": "closed", "failures": 0}, …}`.
pub async fn breaker_states(env: &Env) -> Result<Value, crate::ApiError> {
    let mut states = serde_json::Map::new();
    for provider in Provider::ALL {
        let mut response = ask(env, provider, Method::Get, "state", None)
            .await
            .map_err(|_| crate::ApiError::Upstream("the circuit breaker"))?;
        let state: Value = response
            .json()
            .await
            .map_err(|_| crate::ApiError::Upstream("the circuit breaker"))?;
        states.insert(provider.name().into(), state);
    }
    Ok(Value::Object(states))
}

fn unreachable_breaker(provider: Provider, error: &worker::Error) {
    log_event(
        Level::Error,
        "breaker_unreachable",
        &[
            ("provider", provider.name().into()),
            ("detail", error.to_string().into()),
        ],
    );
}
