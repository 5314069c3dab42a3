//! The one logging path: every function and the adapter write structured JSON lines through
//! [`log_event`], masked by `log-mask` (e-mails, phone numbers, JWTs, API keys, bearer tokens,
//! signatures, and every configured secret of this deployment). Never pass a body.

use std::cell::RefCell;
use std::rc::Rc;

use log_mask::{json_line, Masker};
use serde_json::Value;
use worker::js_sys::{Object, Reflect};
use worker::wasm_bindgen::JsValue;
use worker::Env;

pub use log_mask::Level;

/// A binding is a secret when its name ends like one of these (`SUPABASE_JWT_SECRET`,
/// `CRON_SECRETS`, `META_VERIFY_TOKENS`, a provider's `…_API_KEY`, …); each comma-separated
/// value of it is redacted from every log line.
const SECRET_NAME_ENDINGS: &[&str] = &[
    "SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS", "PASSWORD",
];

thread_local! {
    /// One masker per isolate: a deployment's secrets are fixed for the isolate's life.
    static MASKER: RefCell<Option<Rc<Masker>>> = const { RefCell::new(None) };
}

/// Learns this deployment's secret values from `env`, once per isolate (the adapter calls it
/// before any request or scheduled job runs).
pub(crate) fn configure(env: &Env) {
    if MASKER.with_borrow(Option::is_some) {
        return;
    }
    let masker = Masker::new(secret_values(env));
    MASKER.with_borrow_mut(|slot| *slot = Some(Rc::new(masker)));
}

/// The platform's own secrets, read by name even where the runtime does not list its bindings.
const KNOWN_SECRETS: &[&str] = &[
    "SUPABASE_JWT_SECRET",
    "PADDLE_WEBHOOK_SECRETS",
    "META_APP_SECRETS",
    "META_VERIFY_TOKENS",
    "MERCADOPAGO_WEBHOOK_SECRETS",
    "CRON_SECRETS",
    "META_SYSTEM_USER_TOKEN",
];

/// Every text binding whose name marks it as a secret, split on commas (rotation lists).
fn secret_values(env: &Env) -> Vec<String> {
    let listed = Reflect::own_keys(&Object::from(JsValue::from(env.clone())))
        .map(|keys| keys.iter().filter_map(|key| key.as_string()).collect())
        .unwrap_or_else(|_| Vec::new());
    let names = listed
        .into_iter()
        .filter(|name: &String| SECRET_NAME_ENDINGS.iter().any(|e| name.ends_with(e)))
        .chain(KNOWN_SECRETS.iter().map(|name| (*name).to_owned()));
    names
        .filter_map(|name| env.secret(&name).ok().map(|value| value.to_string()))
        .flat_map(|value| {
            value
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Writes one JSON line: `{"level","event",<fields>}`, every string masked, any body-like field
/// (`body`, `payload`, …) withheld. Errors go to the error stream.
pub fn log_event(level: Level, event: &str, fields: &[(&str, Value)]) {
    let masker = MASKER.with_borrow(|m| m.clone()).unwrap_or_default();
    let line = json_line(&masker, level, event, fields);
    match level {
        Level::Error => worker::console_error!("{line}"),
        Level::Warn => worker::console_warn!("{line}"),
        Level::Info => worker::console_log!("{line}"),
    }
}
