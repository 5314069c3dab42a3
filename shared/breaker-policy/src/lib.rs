//! The circuit breaker's policy, one breaker per upstream provider. Pure: the caller passes the
//! clock in, so the state machine builds and tests natively. The state itself lives in one
//! Durable Object per provider (functions/circuit-breaker), so every isolate of every function
//! that calls the provider sees the same breaker.
//!
//! - **Closed**: calls go through; consecutive failures are counted (a success resets the count).
//!   `failure_threshold` consecutive failures open it.
//! - **Open** for `open_for_ms`: calls are refused without reaching the provider, with the
//!   seconds until it may be tried again (the caller's `Retry-After`).
//! - **Half-open**: once the open period is over, the next call is admitted as the one probe;
//!   others are refused while it runs. Its success closes the breaker, its failure opens it
//!   again. A probe that never reports (its isolate died) is replaced after `probe_lease_ms`.
//!
//! A failure is whatever says the provider is not serving: no connection, a timeout, a 5xx or a
//! 429. A 4xx is the provider answering, so it counts as a success.

use serde::{Deserialize, Serialize};

/// The providers the platform calls; each has its own breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Resend's e-mail API.
    Email,
    /// Meta's Graph API (WhatsApp numbers, WhatsApp messages).
    MetaGraph,
    /// Mercado Pago's payments API.
    MercadoPago,
    /// The language model the assistant pipeline calls.
    Llm,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::Email,
        Provider::MetaGraph,
        Provider::MercadoPago,
        Provider::Llm,
    ];

    /// The breaker's name: its Durable Object is `id_from_name(name)`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Email => "email",
            Provider::MetaGraph => "meta-graph",
            Provider::MercadoPago => "mercadopago",
            Provider::Llm => "llm",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The thresholds; the breaker worker reads them from its vars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub failure_threshold: u32,
    pub open_for_ms: u64,
    pub probe_lease_ms: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for_ms: 30_000,
            probe_lease_ms: 15_000,
        }
    }
}

/// A breaker's state, as its Durable Object stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Closed { failures: u32 },
    Open { until_ms: u64 },
    HalfOpen { probe_until_ms: u64 },
}

impl Default for State {
    fn default() -> Self {
        State::Closed { failures: 0 }
    }
}

/// What the breaker says to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "admit", rename_all = "snake_case")]
pub enum Admission {
    /// Go ahead. With `failures` at 0 a success changes nothing, so the caller need not report
    /// it (the common case costs one round trip to the breaker).
    Closed { failures: u32 },
    /// Go ahead as the half-open probe; report the outcome either way.
    Probe,
    /// Do not call; try again in `retry_after_secs` (at least 1).
    Refused { retry_after_secs: u32 },
}

impl Admission {
    /// Whether the outcome of the admitted call must be reported.
    pub fn must_report(self, outcome: Outcome) -> bool {
        match self {
            Admission::Closed { failures } => outcome == Outcome::Failure || failures > 0,
            Admission::Probe => true,
            Admission::Refused { .. } => false,
        }
    }
}

/// How an admitted call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    /// A provider's HTTP status as the breaker sees it: 5xx and 429 say it is not serving.
    pub fn of_status(status: u16) -> Self {
        if status >= 500 || status == 429 {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

/// A report of an admitted call: its outcome and whether it was the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub outcome: Outcome,
    pub probe: bool,
}

impl State {
    /// Decides one call at `now_ms` (and moves an expired open breaker to half-open).
    pub fn admit(&mut self, policy: &Policy, now_ms: u64) -> Admission {
        match *self {
            State::Closed { failures } => Admission::Closed { failures },
            State::Open { until_ms } if now_ms < until_ms => refused(until_ms, now_ms),
            State::HalfOpen { probe_until_ms } if now_ms < probe_until_ms => {
                refused(probe_until_ms, now_ms)
            }
            State::Open { .. } | State::HalfOpen { .. } => {
                *self = State::HalfOpen {
                    probe_until_ms: now_ms + policy.probe_lease_ms,
                };
                Admission::Probe
            }
        }
    }

    /// Records how an admitted call went. A late report of a call admitted before the breaker
    /// opened changes nothing: only the probe decides a half-open breaker.
    pub fn record(&mut self, policy: &Policy, report: Report, now_ms: u64) {
        let reopen = State::Open {
            until_ms: now_ms + policy.open_for_ms,
        };
        *self = match (*self, report.outcome) {
            (State::HalfOpen { .. }, Outcome::Success) if report.probe => State::default(),
            (State::HalfOpen { .. }, Outcome::Failure) if report.probe => reopen,
            (State::Closed { .. }, Outcome::Success) => State::default(),
            (State::Closed { failures }, Outcome::Failure) => {
                let failures = failures.saturating_add(1);
                if failures >= policy.failure_threshold {
                    reopen
                } else {
                    State::Closed { failures }
                }
            }
            (unchanged, _) => unchanged,
        };
    }
}

/// Whole seconds until `until_ms`, rounded up, at least 1 (`Retry-After: 0` invites a storm).
fn refused(until_ms: u64, now_ms: u64) -> Admission {
    let secs = until_ms.saturating_sub(now_ms).div_ceil(1000).max(1);
    Admission::Refused {
        retry_after_secs: u32::try_from(secs).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        failure_threshold: 3,
        open_for_ms: 10_000,
        probe_lease_ms: 4_000,
    };
    const FAILED: Report = Report {
        outcome: Outcome::Failure,
        probe: false,
    };
    const SUCCEEDED: Report = Report {
        outcome: Outcome::Success,
        probe: false,
    };
    const PROBE_FAILED: Report = Report {
        outcome: Outcome::Failure,
        probe: true,
    };
    const PROBE_SUCCEEDED: Report = Report {
        outcome: Outcome::Success,
        probe: true,
    };

    fn tripped(at_ms: u64) -> State {
        let mut state = State::default();
        for _ in 0..POLICY.failure_threshold {
            assert!(matches!(
                state.admit(&POLICY, at_ms),
                Admission::Closed { .. }
            ));
            state.record(&POLICY, FAILED, at_ms);
        }
        state
    }

    #[test]
    fn consecutive_failures_open_it_and_a_success_resets_the_count() {
        let mut state = State::default();
        state.record(&POLICY, FAILED, 0);
        state.record(&POLICY, FAILED, 0);
        assert_eq!(state, State::Closed { failures: 2 });
        assert_eq!(state.admit(&POLICY, 0), Admission::Closed { failures: 2 });
        state.record(&POLICY, SUCCEEDED, 0);
        assert_eq!(state, State::Closed { failures: 0 });
        assert_eq!(tripped(1_000), State::Open { until_ms: 11_000 });
    }

    #[test]
    fn an_open_breaker_refuses_with_the_seconds_left_rounded_up() {
        let mut state = tripped(0);
        assert_eq!(
            state.admit(&POLICY, 0),
            Admission::Refused {
                retry_after_secs: 10
            }
        );
        assert_eq!(
            state.admit(&POLICY, 9_001),
            Admission::Refused {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            state.admit(&POLICY, 9_999),
            Admission::Refused {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn after_the_open_period_one_probe_is_admitted_and_others_wait() {
        let mut state = tripped(0);
        assert_eq!(state.admit(&POLICY, 10_000), Admission::Probe);
        assert_eq!(
            state.admit(&POLICY, 10_500),
            Admission::Refused {
                retry_after_secs: 4
            }
        );
        state.record(&POLICY, PROBE_SUCCEEDED, 11_000);
        assert_eq!(state, State::Closed { failures: 0 });
        assert_eq!(
            state.admit(&POLICY, 11_000),
            Admission::Closed { failures: 0 }
        );
    }

    #[test]
    fn a_failed_probe_opens_it_for_another_period() {
        let mut state = tripped(0);
        assert_eq!(state.admit(&POLICY, 12_000), Admission::Probe);
        state.record(&POLICY, PROBE_FAILED, 13_000);
        assert_eq!(state, State::Open { until_ms: 23_000 });
        assert!(matches!(
            state.admit(&POLICY, 13_000),
            Admission::Refused { .. }
        ));
    }

    #[test]
    fn a_lost_probe_is_replaced_after_its_lease() {
        let mut state = tripped(0);
        assert_eq!(state.admit(&POLICY, 10_000), Admission::Probe);
        assert_eq!(state.admit(&POLICY, 14_000), Admission::Probe);
        assert_eq!(
            state,
            State::HalfOpen {
                probe_until_ms: 18_000
            }
        );
    }

    #[test]
    fn late_reports_of_calls_admitted_before_do_not_decide_a_half_open_or_open_breaker() {
        let mut open = tripped(0);
        open.record(&POLICY, SUCCEEDED, 1_000);
        assert_eq!(open, State::Open { until_ms: 10_000 });
        open.record(&POLICY, FAILED, 1_000);
        assert_eq!(open, State::Open { until_ms: 10_000 });
        let mut half_open = tripped(0);
        half_open.admit(&POLICY, 10_000);
        half_open.record(&POLICY, SUCCEEDED, 10_100);
        half_open.record(&POLICY, FAILED, 10_100);
        assert_eq!(
            half_open,
            State::HalfOpen {
                probe_until_ms: 14_000
            }
        );
    }

    #[test]
    fn only_failures_and_changes_are_reported_from_a_closed_breaker() {
        let healthy = Admission::Closed { failures: 0 };
        assert!(!healthy.must_report(Outcome::Success));
        assert!(healthy.must_report(Outcome::Failure));
        assert!(Admission::Closed { failures: 1 }.must_report(Outcome::Success));
        assert!(Admission::Probe.must_report(Outcome::Success));
    }

    #[test]
    fn server_errors_and_throttling_are_failures_client_errors_are_not() {
        for status in [500, 502, 503, 504, 429] {
            assert_eq!(Outcome::of_status(status), Outcome::Failure, "{status}");
        }
        for status in [200, 201, 204, 400, 401, 403, 404, 409] {
            assert_eq!(Outcome::of_status(status), Outcome::Success, "{status}");
        }
    }

    #[test]
    fn states_and_admissions_have_a_stable_wire_shape() {
        let stored = serde_json_shape(&State::Open { until_ms: 5 });
        assert_eq!(stored, r#"{"state":"open","until_ms":5}"#);
        for provider in Provider::ALL {
            assert_eq!(Provider::from_name(provider.name()), Some(provider));
        }
        assert_eq!(Provider::from_name("other"), None);
    }

    fn serde_json_shape<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap()
    }
}
