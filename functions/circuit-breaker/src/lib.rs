//! `/functions/v1/circuit-breaker`: the home of the platform's circuit breakers, one Durable
//! Object of class [`CircuitBreaker`] per upstream provider (`id_from_name("meta-graph")`, …).
//! Every function that calls a provider binds the class (`script_name = "circuit-breaker"`) and
//! asks it before each call through `edge_adapter`'s upstream module, so the breaker is shared by
//! every isolate of every function. The policy is crate `breaker-policy`; this is its storage.
//!
//! - `GET` (cron secret in `X-Cron-Secret`): every provider's breaker state, e.g.
//!   `{"meta-graph": {"state": "open", "until_ms": …}, "email": {"state": "closed", "failures": 0}, …}`.
//!
//! Vars (optional): BREAKER_FAILURE_THRESHOLD (consecutive failures that open a breaker,
//! default 5), BREAKER_OPEN_SECS (how long it stays open before a probe, default 30),
//! BREAKER_PROBE_LEASE_SECS (how long one probe may run before another is admitted, default 15).

use breaker_policy::{Policy, Report, State};
use edge_adapter::{breaker_states, optional_number, ApiError, Call, Reply};
use edge_guard::CronCaller;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result};

edge_adapter::serve! {
    routes {
        GET "/functions/v1/circuit-breaker" => cron_secret => list_breakers,
    }
}

async fn list_breakers(call: Call<CronCaller>) -> std::result::Result<Reply, ApiError> {
    Ok(Reply::json(200, breaker_states(&call.env).await?))
}

const STATE_KEY: &str = "state";

/// One provider's breaker. A Durable Object runs one event at a time and holds further events
/// while it waits on its own storage, so each read-decide-write below is atomic.
#[durable_object(fetch)]
pub struct CircuitBreaker {
    state: worker::State,
    policy: Policy,
}

impl DurableObject for CircuitBreaker {
    fn new(state: worker::State, env: Env) -> Self {
        Self {
            state,
            policy: policy(&env),
        }
    }

    /// `POST /admit` → the [`breaker_policy::Admission`]; `POST /report` with a
    /// [`Report`] → 200 `{}`; `GET /state` → the [`State`].
    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let method = req.method();
        let path = req.path();
        // Read before the state: awaiting the body could let another event in between.
        let report: Option<Report> = match (&method, path.as_str()) {
            (Method::Post, "/report") => Some(req.json().await?),
            _ => None,
        };
        let storage = self.state.storage();
        let mut state: State = storage.get(STATE_KEY).await?.unwrap_or_default();
        let before = state;
        let now = worker::Date::now().as_millis();
        let answer = match (method, path.as_str(), report) {
            (Method::Post, "/admit", _) => Response::from_json(&state.admit(&self.policy, now)),
            (_, _, Some(report)) => {
                state.record(&self.policy, report, now);
                Response::from_json(&serde_json::json!({}))
            }
            (Method::Get, "/state", _) => Response::from_json(&state),
            _ => Response::error("unknown breaker request", 404),
        };
        if state != before {
            storage.put(STATE_KEY, state).await?;
        }
        answer
    }
}

/// The policy from the vars; an unparsable one falls back to the default and is logged.
fn policy(env: &Env) -> Policy {
    let default = Policy::default();
    let setting = |name: &'static str, default: u64| {
        optional_number::<u64>(env, name)
            .unwrap_or_else(|_| {
                worker::console_error!("{name} is not a number; using {default}");
                None
            })
            .unwrap_or(default)
    };
    Policy {
        failure_threshold: u32::try_from(setting(
            "BREAKER_FAILURE_THRESHOLD",
            default.failure_threshold.into(),
        ))
        .unwrap_or(default.failure_threshold)
        .max(1),
        open_for_ms: setting("BREAKER_OPEN_SECS", default.open_for_ms / 1000) * 1000,
        probe_lease_ms: setting("BREAKER_PROBE_LEASE_SECS", default.probe_lease_ms / 1000) * 1000,
    }
}
