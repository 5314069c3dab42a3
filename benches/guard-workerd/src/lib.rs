//! Benchmark-only worker: each route answers the same tiny reply, one without any check and one
//! behind a guard, so `ci/bench-guards` can measure what the guard costs inside workerd. The
//! verifiers are built per request, as the adapter builds them; the JWKS is parsed once per
//! isolate, as the adapter's cache holds it (its fetch is not part of the per-request cost).
//! `/edge` adds what the adapter's browser edge adds to every request: the security headers,
//! the CORS allowlist check with `Vary`/`Access-Control-Allow-Origin`, and one masked JSON log
//! line (allowlist and masker built once per isolate, as the adapter holds them).
//! `/limit-ip` and `/limit-ip-account` count the request as the adapter's rate limits do: one
//! or two hits on the limiter's Durable Objects (`workers/rate-limiter`, bound as in every
//! function), with a limit no run reaches.
//! `/es256` checks the signature with Web Crypto, as every function does; `/es256-pure-rust`
//! with the pure-Rust P-256 code the functions used before, for the comparison.
//! `POST /input-guard` asks the input guard worker (`workers/input-guard`, bound as
//! `INPUT_GUARD` as in `assistant` and `meta-webhook`) about the body's text, as the assistant
//! pipeline does for each question; allowed or blocked, it answers 200.

use std::sync::OnceLock;

use cors_policy::{response_headers, AllowedOrigins, SECURITY_HEADERS};
use log_mask::{json_line, Level, Masker};

use edge_adapter::WebCryptoSignatures;
use edge_adapter::{count_hit, inspect_remotely, Rate, Scope};
use edge_guard::{
    JwkSet, JwsSignatureCheck, JwtConfig, PaddleVerifier, PureRustSignatures, Refusal,
    SupabaseJwtVerifier, UserRequirement,
};
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let outcome = match (req.method(), req.path().as_str()) {
        (Method::Get, "/none") => Ok(()),
        (Method::Get, "/edge") => return browser_edge(&req, &env, LogLine::MaskedAndPrinted),
        (Method::Get, "/edge-unprinted") => return browser_edge(&req, &env, LogLine::MaskedOnly),
        (Method::Get, "/edge-unmasked") => {
            return browser_edge(&req, &env, LogLine::PrintedUnmasked)
        }
        (Method::Get, "/hs256") => hs256(&req, &env),
        (Method::Get, "/es256") => es256(&req, &env, &WebCryptoSignatures).await,
        (Method::Get, "/es256-pure-rust") => es256(&req, &env, &PureRustSignatures).await,
        (Method::Get, "/limit-ip") => rate_limits(&env, &[Scope::Ip]).await,
        (Method::Get, "/limit-ip-account") => rate_limits(&env, &[Scope::Ip, Scope::Account]).await,
        (Method::Post, "/none") => req.bytes().await.map(drop).map_err(misconfigured),
        (Method::Post, "/paddle") => paddle(&mut req, &env).await,
        (Method::Post, "/input-guard") => input_guard(&mut req, &env).await,
        _ => return Response::error("not found", 404),
    };
    match outcome {
        Ok(()) => Response::ok("ok"),
        Err(refusal) => Response::error(refusal.to_json(), refusal.status),
    }
}

/// What `/edge` does with its log line, to separate the masking from `console.log` (which
/// `wrangler dev` relays to its own Node process; in production it goes to Workers Logs).
#[derive(Clone, Copy, PartialEq)]
enum LogLine {
    /// As the adapter does: masked, then printed.
    MaskedAndPrinted,
    /// Built and masked, never printed.
    MaskedOnly,
    /// Built without masking, then printed.
    PrintedUnmasked,
}

/// The `/none` reply with the browser edge around it, the way the adapter builds it.
fn browser_edge(req: &Request, env: &Env, log_line: LogLine) -> worker::Result<Response> {
    static ALLOWED: OnceLock<AllowedOrigins> = OnceLock::new();
    static MASKER: OnceLock<Masker> = OnceLock::new();
    let allowed = ALLOWED.get_or_init(|| {
        let list = env
            .var("CORS_ALLOWED_ORIGINS")
            .map(|v| v.to_string())
            .unwrap_or_default();
        AllowedOrigins::parse(&list).unwrap_or_default()
    });
    let masker = MASKER.get_or_init(|| {
        let secrets = ["SUPABASE_JWT_SECRET", "PADDLE_WEBHOOK_SECRETS"]
            .iter()
            .filter_map(|name| env.secret(name).ok().map(|s| s.to_string()));
        Masker::new(secrets)
    });
    let mut response = Response::ok("ok")?;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.set(name, value)?;
    }
    let origin = req.headers().get("origin")?;
    for (name, value) in response_headers(allowed, origin.as_deref()) {
        headers.set(name, &value)?;
    }
    let query = req.url()?.query().unwrap_or_default().to_owned();
    let fields: [(&str, serde_json::Value); 4] = [
        ("method", "GET".into()),
        ("path", req.path().into()),
        ("query", query.into()),
        ("status", 200.into()),
    ];
    let line = if log_line == LogLine::PrintedUnmasked {
        let mut unmasked = serde_json::Map::new();
        unmasked.insert("level".into(), "info".into());
        unmasked.insert("event".into(), "request".into());
        unmasked.extend(fields.map(|(name, value)| (name.to_owned(), value)));
        serde_json::Value::Object(unmasked).to_string()
    } else {
        json_line(masker, Level::Info, "request", &fields)
    };
    if log_line == LogLine::MaskedOnly {
        std::hint::black_box(line);
    } else {
        worker::console_log!("{line}");
    }
    Ok(response)
}

fn now() -> u64 {
    worker::Date::now().as_millis() / 1000
}

fn hs256(req: &Request, env: &Env) -> Result<(), Refusal> {
    let secret = env
        .secret("SUPABASE_JWT_SECRET")
        .map_err(misconfigured)?
        .to_string();
    let authorization = req.headers().get("authorization").map_err(misconfigured)?;
    SupabaseJwtVerifier::hs256(secret.as_bytes(), &JwtConfig::default())
        .verify_user(
            authorization.as_deref(),
            None,
            &UserRequirement::SIGNED_IN,
            now(),
        )
        .map(drop)
}

/// ES256 with the signature checked by `signatures`: Web Crypto as the adapter does it, or the
/// pure-Rust P-256 the workers used before (for the comparison).
async fn es256(
    req: &Request,
    env: &Env,
    signatures: &impl JwsSignatureCheck,
) -> Result<(), Refusal> {
    static KEYS: OnceLock<JwkSet> = OnceLock::new();
    let keys = match KEYS.get() {
        Some(keys) => keys,
        None => {
            let document = env.var("LOCAL_JWKS").map_err(misconfigured)?.to_string();
            let parsed = JwkSet::parse(&document).map_err(misconfigured)?;
            KEYS.get_or_init(|| parsed)
        }
    };
    let authorization = req.headers().get("authorization").map_err(misconfigured)?;
    SupabaseJwtVerifier::new(None, &JwtConfig::default())
        .verify_user_with(
            authorization.as_deref(),
            Some(keys),
            &UserRequirement::SIGNED_IN,
            now(),
            signatures,
        )
        .await
        .map(drop)
}

async fn paddle(req: &mut Request, env: &Env) -> Result<(), Refusal> {
    let secret = env
        .secret("PADDLE_WEBHOOK_SECRETS")
        .map_err(misconfigured)?
        .to_string();
    // The whole run must fit the window: the prepared signatures are made once, before it.
    let verifier =
        PaddleVerifier::new([secret.as_str()], 300).ok_or_else(|| misconfigured("secret"))?;
    let signature = req
        .headers()
        .get("paddle-signature")
        .map_err(misconfigured)?;
    let body = req.bytes().await.map_err(misconfigured)?;
    verifier
        .verify(signature.as_deref(), &body, now())
        .map(drop)
}

/// The guard worker's verdict on the body, through the binding (the verdict itself is not used).
async fn input_guard(req: &mut Request, env: &Env) -> Result<(), Refusal> {
    let text = req.text().await.map_err(misconfigured)?;
    inspect_remotely(env, &text)
        .await
        .map(drop)
        .map_err(misconfigured)
}

/// One counter hit per scope, keyed as the adapter keys them (one client, one account: the
/// hottest case, every hit on the same object).
async fn rate_limits(env: &Env, scopes: &[Scope]) -> Result<(), Refusal> {
    let never_reached = Rate {
        limit: u32::MAX,
        window_secs: 60,
    };
    for scope in scopes {
        let key = format!("{}|GET /limit|bench", scope.as_str());
        count_hit(env, *scope, &key, never_reached)
            .await
            .map_err(misconfigured)?;
    }
    Ok(())
}

/// A benchmark set up wrongly must show as failed requests in wrk's output, not as fast ones.
fn misconfigured(_error: impl std::fmt::Debug) -> Refusal {
    Refusal::new(
        500,
        "bench_misconfigured",
        "the benchmark worker is misconfigured",
    )
}
