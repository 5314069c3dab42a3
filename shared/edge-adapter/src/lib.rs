//! What every function does around its one call into shared code, written once: read config and
//! secrets from the environment, run the guard on the request, open the database connection,
//! and turn every outcome into a JSON reply. The only shared crate that touches `worker`.

mod config;
mod db;
mod error;
mod guards;
mod reply;
mod request;

pub use config::optional_number;
pub use db::{in_transaction, request_info};
pub use error::ApiError;
pub use guards::{cron_caller, paddle_webhook, require_method, signed_in_user};
pub use reply::{respond, Reply};
pub use request::query_uuid;
pub use rls_db::Access;
