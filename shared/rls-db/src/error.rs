use tokio_postgres::error::SqlState;

/// A database failure, classified by what the caller should answer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Postgres could not be reached or the connection broke: answer 503 so callers retry.
    #[error("database unavailable")]
    Unavailable(#[source] tokio_postgres::Error),
    /// A grant or a policy's WITH CHECK refused the statement (SQLSTATE 42501).
    #[error("permission denied by the database")]
    PermissionDenied(#[source] tokio_postgres::Error),
    /// The input could not be stored as given (bad format, constraint): a client error.
    #[error("the database rejected the input")]
    InvalidInput(#[source] tokio_postgres::Error),
    /// Anything else: a defect in our SQL or schema.
    #[error("database error")]
    Other(#[source] tokio_postgres::Error),
    /// A statement returned a shape its caller does not expect (a defect, never a panic).
    #[error("unexpected result: {0}")]
    UnexpectedResult(&'static str),
}

impl DbError {
    /// The HTTP status and stable error code this failure answers with.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            DbError::Unavailable(_) => (503, "database_unavailable"),
            DbError::PermissionDenied(_) => (403, "forbidden"),
            DbError::InvalidInput(_) => (400, "invalid_input"),
            DbError::Other(_) | DbError::UnexpectedResult(_) => (500, "database_error"),
        }
    }

    /// The SQLSTATE behind the failure, when the server sent one.
    pub fn sql_state(&self) -> Option<&str> {
        match self {
            DbError::Unavailable(e)
            | DbError::PermissionDenied(e)
            | DbError::InvalidInput(e)
            | DbError::Other(e) => e.code().map(SqlState::code),
            DbError::UnexpectedResult(_) => None,
        }
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> Self {
        let Some(state) = error.code() else {
            // No SQLSTATE, so not a server error: the connection itself failed (closed, I/O,
            // protocol).
            return DbError::Unavailable(error);
        };
        let class = &state.code()[..2];
        match class {
            "42" if *state == SqlState::INSUFFICIENT_PRIVILEGE => DbError::PermissionDenied(error),
            // 08 connection exception, 53 insufficient resources, 57 operator intervention
            // (shutdown, statement timeout), 40 transaction rollback (serialization, deadlock).
            "08" | "53" | "57" | "40" => DbError::Unavailable(error),
            // 22 data exception (bad format), 23 integrity constraint violation.
            "22" | "23" => DbError::InvalidInput(error),
            _ => DbError::Other(error),
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
