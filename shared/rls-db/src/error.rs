use tokio_postgres::error::SqlState;

/// A database failure, classified by what the caller should answer. The same classification
/// holds for both data paths (the Postgres wire and PostgREST over HTTP), so a function answers
/// the same status whichever it is configured with.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Postgres could not be reached or the connection broke: answer 503 so callers retry.
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// A grant or a policy's WITH CHECK refused the statement (SQLSTATE 42501).
    #[error("permission denied by the database")]
    PermissionDenied(#[source] Cause),
    /// The input could not be stored as given (bad format, constraint): a client error.
    #[error("the database rejected the input")]
    InvalidInput(#[source] Cause),
    /// Anything else: a defect in our SQL or schema.
    #[error("database error")]
    Other(#[source] Cause),
    /// The row named by the caller is not one RLS lets them see (another tenant's, or none at
    /// all: the answer is the same, so it never reveals that a row exists).
    #[error("not found")]
    NotFound,
    /// RLS shows the caller the row (or its workspace) but not the right to this action: a
    /// member acting on another member's note, a member where owners and admins act.
    #[error("not allowed for the caller's role")]
    WrongRole,
    /// The signed-in user's account is scheduled for deletion: only reading or cancelling that
    /// is allowed (SQLSTATE PD001, raised by the per-request settings statement).
    #[error("the account is scheduled for deletion")]
    AccountPendingDeletion,
    /// A statement returned a shape its caller does not expect (a defect, never a panic).
    #[error("unexpected result: {0}")]
    UnexpectedResult(&'static str),
    /// A refusal with its own stable answer: the database refused the caller's credential (a
    /// signed-out session, an API key that is not live or lacks the scope), or a query found
    /// the named workspace not the caller's. Answered as that refusal.
    #[error("refused: {}", .0.code)]
    Refused(edge_guard::Refusal),
}

/// What failed underneath, as the data path in use reported it.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// The Postgres wire protocol.
    #[error(transparent)]
    Wire(#[from] tokio_postgres::Error),
    /// A data API over HTTP (PostgREST).
    #[error(transparent)]
    Rest(#[from] RestFailure),
}

/// A failure reported by a REST data API, or the HTTP exchange itself failing (`status` None).
/// Carries no request headers, so no credential can end up in a log through it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}{message}", status.map_or("no HTTP response".to_owned(), |s| format!("HTTP {s}")), code.as_ref().map_or(String::new(), |c| format!("{c}: ")))]
pub struct RestFailure {
    pub status: Option<u16>,
    /// A SQLSTATE forwarded from Postgres, or the API's own code (PostgREST: `PGRSTgxx`).
    pub code: Option<String>,
    pub message: String,
}

impl DbError {
    /// The HTTP status and stable error code this failure answers with.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            DbError::Unavailable(_) => (503, "database_unavailable"),
            DbError::PermissionDenied(_) => (403, "forbidden"),
            DbError::InvalidInput(_) => (400, "invalid_input"),
            DbError::NotFound => (404, "not_found"),
            DbError::WrongRole => (403, "forbidden"),
            DbError::AccountPendingDeletion => (403, "account_pending_deletion"),
            DbError::Other(_) | DbError::UnexpectedResult(_) => (500, "database_error"),
            DbError::Refused(refusal) => (refusal.status, refusal.code),
        }
    }

    /// The SQLSTATE behind the failure, when the server sent one.
    pub fn sql_state(&self) -> Option<&str> {
        match self {
            DbError::Unavailable(cause)
            | DbError::PermissionDenied(cause)
            | DbError::InvalidInput(cause)
            | DbError::Other(cause) => match cause {
                Cause::Wire(e) => e.code().map(SqlState::code),
                Cause::Rest(failure) => failure.code.as_deref().filter(|c| is_sql_state(c)),
            },
            DbError::AccountPendingDeletion => Some(ACCOUNT_PENDING_DELETION),
            DbError::NotFound
            | DbError::WrongRole
            | DbError::UnexpectedResult(_)
            | DbError::Refused(_) => None,
        }
    }

    /// The one classification of a server-reported SQLSTATE, shared by both data paths.
    pub fn from_sql_state(state: &str, cause: Cause) -> Self {
        match state.get(..2) {
            _ if state == ACCOUNT_PENDING_DELETION => DbError::AccountPendingDeletion,
            Some("42") if state == SqlState::INSUFFICIENT_PRIVILEGE.code() => {
                DbError::PermissionDenied(cause)
            }
            // 08 connection exception, 53 insufficient resources, 57 operator intervention
            // (shutdown, statement timeout), 40 transaction rollback (serialization, deadlock).
            Some("08" | "53" | "57" | "40") => DbError::Unavailable(cause),
            // 22 data exception (bad format), 23 integrity constraint violation.
            Some("22" | "23") => DbError::InvalidInput(cause),
            _ => DbError::Other(cause),
        }
    }
}

/// Raised for a user whose account deletion is pending (sql/migrations/0045).
const ACCOUNT_PENDING_DELETION: &str = "PD001";

/// Five characters of digits and upper-case letters: a SQLSTATE, not an API's own code.
pub fn is_sql_state(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> Self {
        if let Some(refusal) = error
            .as_db_error()
            .and_then(|e| crate::admission::refusal_for(e.code().code(), e.message()))
        {
            return DbError::Refused(refusal);
        }
        match error.code().map(|state| state.code().to_owned()) {
            Some(state) => DbError::from_sql_state(&state, error.into()),
            // No SQLSTATE, so not a server error: the connection itself failed (closed, I/O,
            // protocol).
            None => DbError::Unavailable(error.into()),
        }
    }
}

/// The first column of the only row a statement returns.
pub(crate) fn single_value<T>(rows: Vec<tokio_postgres::Row>) -> Result<T, DbError>
where
    T: for<'a> tokio_postgres::types::FromSql<'a>,
{
    let row = rows
        .into_iter()
        .next()
        .ok_or(DbError::UnexpectedResult("no row"))?;
    Ok(row.try_get(0)?)
}

/// The one JSON value a statement returns for a row RLS let through, or [`DbError::NotFound`].
pub(crate) fn found(rows: Vec<tokio_postgres::Row>) -> Result<String, DbError> {
    match rows.into_iter().next() {
        Some(row) => Ok(row.try_get(0)?),
        None => Err(DbError::NotFound),
    }
}

/// For a statement answering `(result, visible)`: the result when there is one; otherwise
/// [`DbError::WrongRole`] when RLS shows the caller what they named, [`DbError::NotFound`] when
/// it does not (so another tenant's id reads as absent).
pub(crate) fn done_or_why(rows: Vec<tokio_postgres::Row>) -> Result<String, DbError> {
    let row = rows
        .into_iter()
        .next()
        .ok_or(DbError::UnexpectedResult("no row"))?;
    match (
        row.try_get::<_, Option<String>>(0)?,
        row.try_get::<_, bool>(1)?,
    ) {
        (Some(done), _) => Ok(done),
        (None, true) => Err(DbError::WrongRole),
        (None, false) => Err(DbError::NotFound),
    }
}
