//! The data path every function uses to reach Postgres.
//!
//! [`begin_as`] opens a transaction and, in one statement, sets what PostgREST sets for a request
//! (role, `request.jwt.claims`, method, path, headers) with `set_config(…, true)`: transaction
//! local, so nothing leaks to the next request on a pooled connection. RLS policies then see the
//! caller exactly as they would behind PostgREST. The query modules hold the statements the
//! functions run; none of them filters by tenant on RLS's behalf. [`DataPath`] is the interface
//! a function codes against: this wire path, or PostgREST over HTTP (crate `rls-postgrest`).

pub mod assistant;
pub mod budgets;
pub mod channels;
mod data_path;
pub mod email_events;
mod error;
pub mod files;
pub mod invitations;
pub mod managed;
pub mod members;
pub mod notes;
pub mod profiles;
pub mod retention;
mod rows;
mod session;
pub mod share_links;
pub mod webhook_events;
pub mod workspaces;

pub use data_path::DataPath;
pub use error::{is_sql_state, Cause, DbError, RestFailure};
pub use session::{begin_as, run_as, Access, RequestInfo, Work};
