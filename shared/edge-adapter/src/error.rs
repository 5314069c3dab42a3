use api_input::InputError;
use edge_guard::Refusal;
use rate_limit::Scope;
use rls_db::budgets::BudgetExhausted;
use rls_db::DbError;

/// Every way a request can end other than success. Each has a stable code and a status, and is
/// answered as JSON by [`crate::respond`]: a function never answers a bare 500.
#[derive(Debug)]
pub enum ApiError {
    /// The guard refused the request (401/403/400/413).
    Refused(Refusal),
    /// The body did not parse into the endpoint's input type (400, naming the field).
    Invalid(InputError),
    /// The database refused or could not be reached.
    Db(DbError),
    /// The function is missing a binding, variable or secret it needs.
    NotConfigured(&'static str),
    /// A service the guard depends on (the JWKS endpoint) could not be reached.
    Upstream(&'static str),
    /// The provider's circuit breaker is open: the call was not made (503 with `Retry-After`).
    CircuitOpen {
        provider: &'static str,
        retry_after_secs: u32,
    },
    /// A refusal that names what it refused beyond its code (the budget's meter, the input
    /// guard's category) and may say when to retry.
    Rejected(Rejection),
    /// Over the route's rate limit for `scope` (429, with `Retry-After`).
    RateLimited { scope: Scope, retry_after_secs: u32 },
}

/// A refusal with details: `fields` go into the error object beside `code` and `message`,
/// `retry_after_secs` into a `Retry-After` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
    pub fields: Vec<(&'static str, String)>,
    pub retry_after_secs: Option<u64>,
}

/// 429 `{"error":{"code":"budget_exhausted","meter":…}}`.
impl From<BudgetExhausted> for ApiError {
    fn from(exhausted: BudgetExhausted) -> Self {
        ApiError::Rejected(Rejection {
            status: 429,
            code: "budget_exhausted",
            message: "the workspace's budget for this meter is used up for this period",
            fields: vec![("meter", exhausted.meter.as_str().to_owned())],
            retry_after_secs: None,
        })
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        ApiError::Refused(refusal)
    }
}

impl From<InputError> for ApiError {
    fn from(error: InputError) -> Self {
        ApiError::Invalid(error)
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            // A credential the database refused is answered like any guard refusal.
            DbError::Refused(refusal) => ApiError::Refused(refusal),
            error => ApiError::Db(error),
        }
    }
}

impl ApiError {
    /// Seconds for a `Retry-After` header, for the errors that know when to come back.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            ApiError::CircuitOpen {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            ApiError::Rejected(rejection) => rejection
                .retry_after_secs
                .map(|secs| u32::try_from(secs).unwrap_or(u32::MAX)),
            ApiError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// Status, stable code and a message safe to show (no secrets, no SQL, no tokens).
    pub fn status_code_message(&self) -> (u16, &'static str, &'static str) {
        match self {
            ApiError::Refused(r) => (r.status, r.code, r.message),
            ApiError::Invalid(e) => (400, e.code(), e.message()),
            ApiError::Db(e) => {
                let (status, code) = e.status_and_code();
                let message = match (e, status) {
                    (DbError::AccountPendingDeletion, _) => {
                        "this account is scheduled for deletion: cancel the deletion to use it"
                    }
                    (_, 503) => "the database is unavailable; retry later",
                    (_, 403) => "the database refused this for your role",
                    (_, 404) => "nothing with that id is visible to you",
                    (_, 400) => "the input was rejected by the database",
                    _ => "the database failed this request",
                };
                (status, code, message)
            }
            // 503: a deploy that adds the missing setting fixes it, and providers retry 5xx.
            ApiError::Upstream(_) => (
                503,
                "upstream_unavailable",
                "a service this function depends on is unavailable; retry later",
            ),
            ApiError::CircuitOpen { .. } => (
                503,
                "upstream_unavailable",
                "a service this function depends on is failing; not tried, retry after Retry-After",
            ),
            ApiError::RateLimited { .. } => (
                429,
                "rate_limited",
                "too many requests; retry after the seconds in Retry-After",
            ),
            ApiError::NotConfigured(_) => (
                503,
                "not_configured",
                "this function is missing configuration",
            ),
            ApiError::Rejected(r) => (r.status, r.code, r.message),
        }
    }
}
