//! What every function does around its one call into shared code, written once: the declared
//! routes and their guards ([`serve!`]), config and secrets from the environment, the database
//! connection, and every outcome as a JSON reply. The only shared crate that touches `worker`.

mod assistant;
mod browser;
mod budgets;
mod config;
mod db;
mod error;
mod files;
mod guards;
mod log;
mod mail;
mod reply;
mod request;
mod routes;
mod upstream;
mod webhooks;

pub use assistant::{ask_assistant, AskFor};
pub use assistant_pipeline::Answer;
pub use budgets::{reserve_budget, settle_budget};
pub use config::optional_number;
pub use db::{in_transaction, request_info};
pub use error::{ApiError, Rejection};
pub use files::{
    delete_file, delete_user_objects, delete_workspace_objects, purge_file_originals, send_file,
    store_file,
};
pub use guards::MetaChallenge;
pub use log::{log_event, Level};
pub use mail::send_invitation;
pub use reply::{respond, Reply};
pub use request::{
    json_body, query_integer, query_text, query_uuid, raw_body, required_query_uuid,
};
pub use rls_db::budgets::{Meter, Reservation};
pub use rls_db::Access;
pub use routes::{dispatch, run_scheduled, Call, Handled, Route, Schedule, ScheduledCall};
pub use upstream::prove_whatsapp_number;
pub use webhooks::{replay_webhooks, store_webhook};
