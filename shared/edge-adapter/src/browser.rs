//! The browser edge, wired: `cors-policy` decides, this module reads the configuration and sets
//! the headers. Security headers go on every response the adapter builds; CORS headers only on
//! browser-facing paths, for allowed origins.

use std::cell::RefCell;
use std::rc::Rc;

use cors_policy::{preflight, response_headers, AllowedOrigins, PreflightRequest};
use edge_guard::Refusal;
use worker::{Env, Headers, Request, Response};

use crate::config::optional_text;
use crate::request::header;
use crate::{respond, ApiError};

/// The deployment's allowlist: comma-separated origins (see `cors_policy::AllowedOrigins`).
const ALLOWED_ORIGINS_VAR: &str = "CORS_ALLOWED_ORIGINS";

thread_local! {
    /// Parsed once per isolate: the configuration is fixed for the isolate's life.
    static ALLOWED: RefCell<Option<Rc<Result<AllowedOrigins, ()>>>> = const { RefCell::new(None) };
}

/// The allowlist, or `Err` when the configured list does not parse (logged once; then no origin
/// is allowed and preflights answer 503 `not_configured`).
pub(crate) fn allowed_origins(env: &Env) -> Rc<Result<AllowedOrigins, ()>> {
    if let Some(allowed) = ALLOWED.with_borrow(Clone::clone) {
        return allowed;
    }
    let list = optional_text(env, ALLOWED_ORIGINS_VAR).unwrap_or_default();
    let parsed = AllowedOrigins::parse(&list).map_err(|error| {
        crate::log_event(
            crate::Level::Error,
            "cors_misconfigured",
            &[("detail", error.to_string().into())],
        )
    });
    let parsed = Rc::new(parsed);
    ALLOWED.with_borrow_mut(|slot| *slot = Some(parsed.clone()));
    parsed
}

/// Sets the headers every response carries (`cors_policy::SECURITY_HEADERS`).
pub(crate) fn add_security_headers(headers: &Headers) -> worker::Result<()> {
    for (name, value) in cors_policy::SECURITY_HEADERS {
        headers.set(name, value)?;
    }
    Ok(())
}

/// Adds `Vary: Origin` and, for an allowed `origin`, the echoed `Access-Control-Allow-Origin`.
pub(crate) fn add_cors_headers(
    response: &mut Response,
    allowed: &Result<AllowedOrigins, ()>,
    origin: Option<&str>,
) -> worker::Result<()> {
    let none = AllowedOrigins::default();
    let allowed = allowed.as_ref().unwrap_or(&none);
    for (name, value) in response_headers(allowed, origin) {
        response.headers_mut().set(name, &value)?;
    }
    Ok(())
}

/// Answers an OPTIONS request on a browser-facing path whose routes accept `methods`: 204 with
/// the CORS headers, or a 403 JSON error (no CORS headers) saying why not.
pub(crate) fn answer_preflight(
    req: &Request,
    allowed: &Result<AllowedOrigins, ()>,
    methods: &[&str],
) -> worker::Result<Response> {
    let Ok(allowed) = allowed else {
        return respond(Err(ApiError::NotConfigured(ALLOWED_ORIGINS_VAR)));
    };
    let origin = header(req, "origin");
    let method = header(req, "access-control-request-method");
    let requested_headers = header(req, "access-control-request-headers");
    let request = PreflightRequest {
        origin: origin.as_deref(),
        method: method.as_deref(),
        headers: requested_headers.as_deref(),
    };
    match preflight(allowed, request, methods) {
        Ok(cors) => {
            let mut response = Response::empty()?.with_status(204);
            add_security_headers(response.headers_mut())?;
            for (name, value) in cors {
                response.headers_mut().set(name, &value)?;
            }
            Ok(response)
        }
        Err(refusal) => respond(Err(
            Refusal::new(403, refusal.code(), refusal.message()).into()
        )),
    }
}
