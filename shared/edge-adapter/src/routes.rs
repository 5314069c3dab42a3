//! The route table IS the routing: a function's entry point is one [`serve!`] declaration of its
//! routes (method, path, guard) and schedules. The adapter runs the declared guard before the
//! handler, and the handler's argument is the principal that guard yields, so the declaration
//! cannot drift from the code. `cargo run -p audit` reads the same declarations from source.

use edge_guard::{
    ApiKeyClient, CronCaller, PublicEndpoint, Refusal, TenantUser, User, UserRequirement,
    VerifiedWebhook,
};
use futures_util::future::LocalBoxFuture;
use worker::{Env, Method, Request, Response};

use cors_policy::Audience;
use rate_limit::{Rate, RouteLimits, Scope};

use crate::guards::{self, MetaChallenge};
use crate::limits::{RateLimitAccount, RouteLimiter};
use crate::request::header;
use crate::{browser, log, log_event, respond, ApiError, Level, Reply};

/// What a handler gets: the principal its route's guard produced, the request, the environment.
pub struct Call<P> {
    pub principal: P,
    pub req: Request,
    pub env: Env,
}

/// What a handler returns.
pub type Handled = LocalBoxFuture<'static, Result<Reply, ApiError>>;

type Run = Box<dyn Fn(Request, Env, RouteLimiter) -> Handled>;

/// One declared route: the guard is chosen by the constructor, which also fixes the handler's
/// principal type, and runs before the handler on every request.
pub struct Route {
    method: Option<Method>,
    path: &'static str,
    /// Browser-facing routes answer preflights and carry CORS headers; server routes never do.
    audience: Audience,
    /// The route kind's default limits, or what `serve!` declared for this route.
    limits: RouteLimits,
    run: Run,
}

/// A guard as the adapter runs it: the request (mutable: a webhook guard reads the body), the
/// environment and the route's declared requirement in, the principal out.
type Admit<G, P> =
    for<'a> fn(&'a mut Request, &'a Env, &'a G) -> LocalBoxFuture<'a, Result<P, ApiError>>;

/// A guard with no declared requirement (webhook signatures, the cron secret).
type Check<P> = for<'a> fn(&'a mut Request, &'a Env) -> LocalBoxFuture<'a, Result<P, ApiError>>;

impl Route {
    /// A Supabase token meeting `requirement` → `Call<User>`.
    pub fn user(
        method: Option<Method>,
        path: &'static str,
        requirement: UserRequirement,
        handler: fn(Call<User>) -> Handled,
    ) -> Self {
        fn admit<'a>(
            req: &'a mut Request,
            env: &'a Env,
            requirement: &'a UserRequirement,
        ) -> LocalBoxFuture<'a, Result<User, ApiError>> {
            Box::pin(guards::signed_in_user(req, env, requirement))
        }
        Self::guarded("user", method, path, requirement, admit, handler)
    }

    /// A Supabase token meeting `requirement`, for the requested workspace → `Call<TenantUser>`.
    pub fn tenant_user(
        method: Option<Method>,
        path: &'static str,
        requirement: UserRequirement,
        handler: fn(Call<TenantUser>) -> Handled,
    ) -> Self {
        fn admit<'a>(
            req: &'a mut Request,
            env: &'a Env,
            requirement: &'a UserRequirement,
        ) -> LocalBoxFuture<'a, Result<TenantUser, ApiError>> {
            Box::pin(guards::tenant_user(req, env, requirement))
        }
        Self::guarded("tenant_user", method, path, requirement, admit, handler)
    }

    /// An API key in `X-Api-Key` on a route that needs `scope` → `Call<ApiKeyClient>`. The guard
    /// only checks the key's shape; that it is live, of a live workspace and grants `scope` is
    /// proven in the request's transaction before the handler's first statement runs. A handler
    /// that answers without the database having admitted the key answers 503 `not_configured`
    /// instead: an unproven key never gets a success.
    pub fn api_key(
        method: Option<Method>,
        path: &'static str,
        scope: &'static str,
        handler: fn(Call<ApiKeyClient>) -> Handled,
    ) -> Self {
        let run = move |req: Request, env: Env, limiter: RouteLimiter| -> Handled {
            Box::pin(async move {
                limiter.count_ip(&env, &req).await?;
                let principal = guards::api_key_caller(&req, scope)?;
                limiter.count_account(&env, &principal).await?;
                let proven = principal.clone();
                let reply = handler(Call {
                    principal,
                    req,
                    env,
                })
                .await?;
                match proven.admitted() {
                    true => Ok(reply),
                    false => Err(ApiError::NotConfigured(
                        "an API-key route whose handler reaches the database",
                    )),
                }
            })
        };
        Self {
            audience: Audience::of_guard("api_key", method.is_none()),
            limits: RouteLimits::for_route("api_key", method.is_none()),
            method,
            path,
            run: Box::new(run),
        }
    }

    /// A Paddle-signed delivery → `Call<VerifiedWebhook>` (the body is already read; at most
    /// 256 KiB).
    pub fn paddle_webhook(
        method: Option<Method>,
        path: &'static str,
        handler: fn(Call<VerifiedWebhook>) -> Handled,
    ) -> Self {
        Self::checked(
            "paddle_webhook",
            method,
            path,
            |req, env| Box::pin(guards::paddle_webhook(req, env)),
            handler,
        )
    }

    /// A Meta delivery signed in `X-Hub-Signature-256` → `Call<VerifiedWebhook>` (the body is
    /// already read; at most 2 MiB).
    pub fn meta_webhook(
        method: Option<Method>,
        path: &'static str,
        handler: fn(Call<VerifiedWebhook>) -> Handled,
    ) -> Self {
        Self::checked(
            "meta_webhook",
            method,
            path,
            |req, env| Box::pin(guards::meta_webhook(req, env)),
            handler,
        )
    }

    /// Meta's subscribe handshake with a configured verify token → `Call<MetaChallenge>`, to be
    /// answered with [`Reply::plain_text`].
    pub fn meta_subscription(
        method: Option<Method>,
        path: &'static str,
        handler: fn(Call<MetaChallenge>) -> Handled,
    ) -> Self {
        Self::checked(
            "meta_subscription",
            method,
            path,
            |req, env| Box::pin(std::future::ready(guards::meta_subscription(req, env))),
            handler,
        )
    }

    /// A Mercado Pago notification signed in `x-signature` → `Call<VerifiedWebhook>` (the body
    /// is already read; at most 64 KiB).
    pub fn mercadopago_webhook(
        method: Option<Method>,
        path: &'static str,
        handler: fn(Call<VerifiedWebhook>) -> Handled,
    ) -> Self {
        Self::checked(
            "mercadopago_webhook",
            method,
            path,
            |req, env| Box::pin(guards::mercadopago_webhook(req, env)),
            handler,
        )
    }

    /// A Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
    /// → `Call<VerifiedWebhook>` (the body is already read; at most 256 KiB).
    pub fn standard_webhooks(
        method: Option<Method>,
        path: &'static str,
        handler: fn(Call<VerifiedWebhook>) -> Handled,
    ) -> Self {
        Self::checked(
            "standard_webhooks",
            method,
            path,
            |req, env| Box::pin(guards::standard_webhooks(req, env)),
            handler,
        )
    }

    /// The cron secret in `X-Cron-Secret` → `Call<CronCaller>`.
    pub fn cron_secret(
        method: Option<Method>,
        path: &'static str,
        handler: fn(Call<CronCaller>) -> Handled,
    ) -> Self {
        Self::checked(
            "cron_secret",
            method,
            path,
            |req, env| Box::pin(std::future::ready(guards::cron_caller(req, env))),
            handler,
        )
    }

    /// No caller identity, for the written `reason` → `Call<PublicEndpoint>`. A blank reason
    /// makes the route answer 503 `not_configured` (and fails the audit).
    pub fn public(
        method: Option<Method>,
        path: &'static str,
        reason: &'static str,
        handler: fn(Call<PublicEndpoint>) -> Handled,
    ) -> Self {
        fn admit<'a>(
            _: &'a mut Request,
            _: &'a Env,
            reason: &'a &'static str,
        ) -> LocalBoxFuture<'a, Result<PublicEndpoint, ApiError>> {
            Box::pin(std::future::ready(PublicEndpoint::declared(reason).ok_or(
                ApiError::NotConfigured("a written reason for a public route"),
            )))
        }
        Self::guarded("public", method, path, reason, admit, handler)
    }

    /// This route's own `rate` for `scope`, in place of its kind's default (`serve!`'s
    /// `[ip: 30 / 60, account: 10 / 3600]` after the handler: limit / window in seconds).
    pub fn limited(mut self, scope: Scope, rate: Rate) -> Self {
        self.limits = self.limits.with(scope, rate);
        self
    }

    /// A route whose guard takes no declared requirement: only the request and environment.
    fn checked<P: RateLimitAccount + 'static>(
        guard: &'static str,
        method: Option<Method>,
        path: &'static str,
        check: Check<P>,
        handler: fn(Call<P>) -> Handled,
    ) -> Self {
        fn admit<'a, P>(
            req: &'a mut Request,
            env: &'a Env,
            check: &'a Check<P>,
        ) -> LocalBoxFuture<'a, Result<P, ApiError>> {
            check(req, env)
        }
        Self::guarded(guard, method, path, check, admit::<P>, handler)
    }

    /// Every request on this route is counted against its client address, then runs `admit`;
    /// the principal is counted against its account, and only then reaches `handler`. `guard`
    /// is the guard's name in `serve!`, which decides the route's audience and default limits.
    fn guarded<G: Copy + 'static, P: RateLimitAccount + 'static>(
        guard: &'static str,
        method: Option<Method>,
        path: &'static str,
        requirement: G,
        admit: Admit<G, P>,
        handler: fn(Call<P>) -> Handled,
    ) -> Self {
        let run = move |mut req: Request, env: Env, limiter: RouteLimiter| -> Handled {
            Box::pin(async move {
                limiter.count_ip(&env, &req).await?;
                let principal = admit(&mut req, &env, &requirement).await?;
                limiter.count_account(&env, &principal).await?;
                handler(Call {
                    principal,
                    req,
                    env,
                })
                .await
            })
        };
        Self {
            audience: Audience::of_guard(guard, method.is_none()),
            limits: RouteLimits::for_route(guard, method.is_none()),
            method,
            path,
            run: Box::new(run),
        }
    }

    fn matches_path(&self, path: &str) -> bool {
        path_matches(self.path, path)
    }
}

/// `pattern` is an exact path, or a prefix ending in `/*`.
fn path_matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == pattern,
    }
}

/// Runs the first route matching the request's path and method: unknown path 404, known path
/// with another method 405, both as the one JSON error shape. On a path with browser-facing
/// routes, OPTIONS is a CORS preflight (unless an `ANY` route takes it) and every answer carries
/// the CORS headers for an allowed origin. One masked log line per request (see below).
pub async fn dispatch(routes: &[Route], req: Request, env: Env) -> worker::Result<Response> {
    log::configure(&env);
    let path = req.path();
    let method = req.method();
    let on_path: Vec<&Route> = routes.iter().filter(|r| r.matches_path(&path)).collect();
    let browser_methods: Vec<&str> = on_path
        .iter()
        .filter(|r| r.audience == Audience::Browser)
        .filter_map(|r| r.method.as_ref().map(Method::as_ref))
        .collect();
    let cors = (!browser_methods.is_empty())
        .then(|| (browser::allowed_origins(&env), header(&req, "origin")));
    // Decoded, so the masking sees `+5491…` and not `%2B5491…`.
    let query = req.url().ok().and_then(|url| {
        url.query()?;
        let pairs: Vec<String> = url
            .query_pairs()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        Some(pairs.join("&"))
    });
    let route = on_path
        .iter()
        .find(|r| r.method.as_ref().is_none_or(|m| *m == method));
    let mut response = match (route, &cors) {
        _ if on_path.is_empty() => respond(Err(Refusal::new(
            404,
            "route_not_found",
            "this function serves nothing at this path",
        )
        .into()))?,
        (None, Some((allowed, _))) if method == Method::Options => {
            let response = browser::answer_preflight(&req, allowed, &browser_methods)?;
            log_request(&method, &path, query, response.status_code());
            return Ok(response);
        }
        (None, _) => respond(Err(Refusal::new(
            405,
            "method_not_allowed",
            "this endpoint does not accept that method",
        )
        .into()))?,
        (Some(route), _) => {
            let limiter = RouteLimiter {
                route: format!("{} {}", method.as_ref(), route.path),
                limits: route.limits,
            };
            respond((route.run)(req, env, limiter).await)?
        }
    };
    if let Some((allowed, origin)) = &cors {
        browser::add_cors_headers(&mut response, allowed, origin.as_deref())?;
    }
    // A forwarding (`ANY`) route leaves the line to the function it forwards to: that one holds
    // the secrets the masking needs (the gateway holds none) and one line per request is enough.
    if route.is_none_or(|r| r.method.is_some()) {
        log_request(&method, &path, query, response.status_code());
    }
    Ok(response)
}

/// The request's one log line: method, path, query (masked like every field) and status; never
/// headers or bodies.
fn log_request(method: &Method, path: &str, query: Option<String>, status: u16) {
    log_event(
        Level::Info,
        "request",
        &[
            ("method", method.as_ref().into()),
            ("path", path.into()),
            ("query", query.into()),
            ("status", status.into()),
        ],
    );
}

/// What a scheduled job gets: the platform's scheduler as its caller.
pub struct ScheduledCall {
    pub principal: CronCaller,
    pub env: Env,
}

impl ScheduledCall {
    /// What the database session sees of a scheduled run (there is no HTTP request).
    pub fn request_info(&self) -> rls_db::RequestInfo {
        rls_db::RequestInfo {
            method: "SCHEDULED".into(),
            path: "/scheduled".into(),
            headers: serde_json::json!({}),
        }
    }
}

/// One declared schedule: a `[triggers] crons` expression and its job. The job's result is
/// only logged (a scheduled event has nobody to answer).
pub struct Schedule {
    cron: &'static str,
    job: fn(ScheduledCall) -> LocalBoxFuture<'static, Result<String, ApiError>>,
}

impl Schedule {
    pub fn new(
        cron: &'static str,
        job: fn(ScheduledCall) -> LocalBoxFuture<'static, Result<String, ApiError>>,
    ) -> Self {
        Self { cron, job }
    }
}

/// Runs the job declared for the fired expression; an undeclared expression runs nothing.
pub async fn run_scheduled(schedules: &[Schedule], fired: &str, env: Env) {
    let declared: Vec<&str> = schedules.iter().map(|s| s.cron).collect();
    log::configure(&env);
    let principal = match CronCaller::from_declared_schedule(&declared, fired) {
        Ok(caller) => caller,
        Err(refusal) => {
            return log_event(
                Level::Error,
                "scheduled_refused",
                &[("cron", fired.into()), ("code", refusal.code.into())],
            )
        }
    };
    let Some(schedule) = schedules.iter().find(|s| s.cron == fired) else {
        return;
    };
    match (schedule.job)(ScheduledCall { principal, env }).await {
        Ok(done) => log_event(
            Level::Info,
            "scheduled_done",
            &[("cron", fired.into()), ("outcome", done.into())],
        ),
        Err(error) => {
            let (status, code, _) = error.status_code_message();
            log_event(
                Level::Error,
                "scheduled_failed",
                &[
                    ("cron", fired.into()),
                    ("status", status.into()),
                    ("code", code.into()),
                ],
            )
        }
    }
}

/// A function's whole entry point: its routes (`METHOD "path" => guard(args) => handler`, METHOD
/// one of GET POST PUT PATCH DELETE ANY, optionally followed by the route's own rate limits
/// `[ip: LIMIT / WINDOW_SECS, account: LIMIT / WINDOW_SECS]` in place of its kind's defaults),
/// optionally its schedules (`"cron" => job`, each also listed in the function's wrangler.toml
/// `[triggers] crons`) and, optionally, the one queue it consumes (`queue { "name": MessageType
/// => consumer }`, the queue also listed in its wrangler.toml `[[queues.consumers]]`; only the
/// platform's own producers reach it). Guards: `user(requirement)`, `tenant_user(requirement)`,
/// `api_key("scope")`, `paddle_webhook`, `meta_webhook`, `meta_subscription`,
/// `mercadopago_webhook`, `standard_webhooks`, `cron_secret`, `public("reason")`.
///
/// ```text
/// edge_adapter::serve! {
///     routes {
///         GET "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => list_notes,
///         POST "/functions/v1/notes" => user(UserRequirement::SIGNED_IN) => create_note
///             [account: 60 / 60],
///     }
/// }
/// async fn list_notes(call: Call<User>) -> Result<Reply, ApiError> { … }
/// ```
#[macro_export]
macro_rules! serve {
    (
        routes {
            $( $method:ident $path:literal => $guard:ident $( ( $($arg:expr),* $(,)? ) )? => $handler:path
               $( [ $( $scope:ident : $limit:literal / $window:literal ),+ $(,)? ] )? ),+ $(,)?
        }
        $( schedules {
            $( $cron:literal => $job:path ),+ $(,)?
        } )?
        $( queue {
            $queue:literal : $message:ty => $consumer:path $(,)?
        } )?
    ) => {
        #[::worker::event(fetch)]
        async fn fetch(
            req: ::worker::Request,
            env: ::worker::Env,
            _ctx: ::worker::Context,
        ) -> ::worker::Result<::worker::Response> {
            let routes = [ $(
                $crate::Route::$guard(
                    $crate::__route_method!($method),
                    $path,
                    $( $($arg,)* )?
                    |call| ::std::boxed::Box::pin($handler(call)),
                )
                $( $( .limited(
                    $crate::__limit_scope!($scope),
                    $crate::Rate { limit: $limit, window_secs: $window },
                ) )+ )?
            ),+ ];
            $crate::dispatch(&routes, req, env).await
        }
        $(
            #[::worker::event(scheduled)]
            async fn scheduled(
                event: ::worker::ScheduledEvent,
                env: ::worker::Env,
                _ctx: ::worker::ScheduleContext,
            ) {
                let schedules = [ $(
                    $crate::Schedule::new($cron, |call| ::std::boxed::Box::pin($job(call)))
                ),+ ];
                $crate::run_scheduled(&schedules, &event.cron(), env).await
            }
        )?
        $(
            #[::worker::event(queue)]
            async fn queue(
                batch: ::worker::MessageBatch<$message>,
                env: ::worker::Env,
                _ctx: ::worker::Context,
            ) -> ::worker::Result<()> {
                $crate::run_queue_consumer($queue, batch, env, $consumer).await;
                Ok(())
            }
        )?
    };
}

/// Runs a function's declared queue consumer on a batch from the declared queue. A batch from
/// any other queue (a binding the declaration does not name) is logged and left to be retried.
pub async fn run_queue_consumer<T, F>(
    declared: &str,
    batch: worker::MessageBatch<T>,
    env: Env,
    consumer: fn(worker::MessageBatch<T>, Env) -> F,
) where
    F: std::future::Future<Output = ()>,
{
    log::configure(&env);
    if batch.queue() != declared {
        log_event(
            Level::Error,
            "queue_undeclared",
            &[("queue", batch.queue().into())],
        );
        return batch.retry_all();
    }
    consumer(batch, env).await
}

#[doc(hidden)]
#[macro_export]
macro_rules! __limit_scope {
    (ip) => {
        $crate::Scope::Ip
    };
    (account) => {
        $crate::Scope::Account
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __route_method {
    (GET) => {
        ::std::option::Option::Some(::worker::Method::Get)
    };
    (POST) => {
        ::std::option::Option::Some(::worker::Method::Post)
    };
    (PUT) => {
        ::std::option::Option::Some(::worker::Method::Put)
    };
    (PATCH) => {
        ::std::option::Option::Some(::worker::Method::Patch)
    };
    (DELETE) => {
        ::std::option::Option::Some(::worker::Method::Delete)
    };
    (ANY) => {
        ::std::option::Option::None
    };
}

#[cfg(test)]
mod tests {
    use super::path_matches;

    #[test]
    fn paths_match_exactly_or_by_declared_prefix() {
        assert!(path_matches("/functions/v1/notes", "/functions/v1/notes"));
        assert!(!path_matches(
            "/functions/v1/notes",
            "/functions/v1/notes/x"
        ));
        assert!(!path_matches("/functions/v1/notes", "/functions/v1/note"));
        assert!(path_matches("/functions/v1/*", "/functions/v1/notes/x"));
        assert!(!path_matches("/functions/v1/*", "/functions/v2/notes"));
    }
}
