//! What every function does around its one call into shared code, written once: the declared
//! routes and their guards ([`serve!`]), config and secrets from the environment, the database
//! connection, and every outcome as a JSON reply. The only shared crate that touches `worker`.

mod assistant;
mod auth_admin;
mod breaker;
mod browser;
mod budgets;
mod byte_chunks;
mod config;
mod db;
mod db_socket;
mod error;
mod files;
mod guard_service;
mod guards;
mod limits;
mod log;
mod mail;
mod reply;
mod request;
mod routes;
mod stream;
mod upstream;
mod web_crypto;
mod webhooks;
mod whatsapp;

pub use assistant::{ask_assistant, AskFor, NotesSeen};
pub use assistant_pipeline::Answer;
pub use auth_admin::delete_auth_user;
pub use breaker::breaker_states;
pub use budgets::{reserve_budget, settle_budget};
pub use config::optional_number;
pub use db::{in_single_statement, in_transaction, request_info};
pub use error::{ApiError, Rejection};
pub use files::{
    delete_file, delete_user_objects, delete_workspace_objects, purge_file_originals, send_file,
    store_file,
};
pub use guard_service::inspect_remotely;
pub use guards::MetaChallenge;
pub use limits::{count_hit, RateLimitAccount};
pub use log::{log_event, Level};
pub use mail::send_invitation;
pub use rate_limit::{Rate, Scope};
pub use reply::{respond, Reply};
pub use request::{
    json_body, query_integer, query_text, query_uuid, raw_body, required_query_uuid,
};
pub use rls_db::budgets::{Meter, Reservation};
pub use rls_db::Access;
pub use routes::{
    dispatch, run_queue_consumer, run_scheduled, Call, Handled, Route, Schedule, ScheduledCall,
};
pub use stream::ChannelSink;
pub use upstream::{prove_whatsapp_number, send_whatsapp_text};
pub use web_crypto::WebCryptoSignatures;
pub use webhooks::{replay_webhooks, store_webhook};
pub use whatsapp::{answer_whatsapp_batch, store_and_queue_whatsapp};
