//! The guard audit. Functions are found on disk (the root wrangler.toml's `main` for the gateway,
//! every `functions/*/wrangler.toml`, and any other crate under `functions/` is reported), and
//! each one's `edge_adapter::serve!` declaration is parsed from its source: that declaration is
//! the function's only entry point (it expands to the `#[event]` handlers and the routing), so
//! what it lists is exactly what is served.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use edge_guard::MIN_PUBLIC_REASON_LEN;
use proc_macro2::TokenStream;
use quote::ToTokens;
use rate_limit::{Rate, RouteLimits, Scope};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, parenthesized, Ident, LitStr, Token};

/// One row of the table: a route or a schedule and the guard in front of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub function: String,
    pub guard: String,
    pub entry: String,
    /// The route's rate limits as served (`ip 600/min, account 300/min`); blank for schedules.
    pub limits: String,
    /// The declared route, for a route row (schedules and undeclared functions have none).
    pub route: Option<DeclaredRoute>,
}

/// A route as `serve!` declares it: what the end-to-end checks request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredRoute {
    /// `GET`, `POST`, …, or `ANY`.
    pub method: String,
    /// An exact path, or a prefix ending in `/*`.
    pub path: String,
    /// The guard's name in `serve!` (`user`, `paddle_webhook`, …).
    pub guard: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub problems: Vec<String>,
    /// Each function's secrets, as its guards read them (`wrangler secret put` before deploying).
    pub secrets: Vec<(String, BTreeSet<&'static str>)>,
}

/// The secrets a guard reads from the function's environment. `None` for a guard this table
/// does not know: the audit then fails, so a new route kind comes with its secrets.
pub fn guard_secrets(guard: &str) -> Option<&'static [&'static str]> {
    Some(match guard {
        // Or the var SUPABASE_URL alone, for projects with asymmetric (JWKS) keys.
        "user" | "tenant_user" => &["SUPABASE_JWT_SECRET"],
        "paddle_webhook" => &["PADDLE_WEBHOOK_SECRETS"],
        "meta_webhook" => &["META_APP_SECRETS"],
        "meta_subscription" => &["META_VERIFY_TOKENS"],
        "mercadopago_webhook" => &["MERCADOPAGO_WEBHOOK_SECRETS"],
        "standard_webhooks" => &["STANDARD_WEBHOOKS_SECRETS"],
        "cron_secret" => &["CRON_SECRETS"],
        "public" => &[],
        // The key is proven against the api_keys table: no secret in the function.
        "api_key" => &[],
        _ => return None,
    })
}

impl Report {
    /// One line per function: `<function> <SECRET> …` (a function without secrets lists none).
    pub fn secret_lines(&self) -> String {
        self.secrets
            .iter()
            .map(|(function, secrets)| {
                let names: Vec<&str> = secrets.iter().copied().collect();
                format!("{function} {}\n", names.join(" ")).replace(" \n", "\n")
            })
            .collect()
    }

    /// The Markdown table README.md shows.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| function | guard | route / trigger | rate limits |\n|---|---|---|---|\n",
        );
        for row in &self.rows {
            out += &format!(
                "| {} | {} | {} | {} |\n",
                row.function, row.guard, row.entry, row.limits
            );
        }
        out
    }
}

/// A deployable function: its name, crate folder and wrangler config.
struct Function {
    name: String,
    dir: PathBuf,
    wrangler: toml::Table,
}

pub fn audit(root: &Path) -> Report {
    let mut report = Report::default();
    for function in discover(root, &mut report.problems) {
        audit_function(&function, &mut report);
    }
    report
}

fn discover(root: &Path, problems: &mut Vec<String>) -> Vec<Function> {
    let mut functions = Vec::new();
    let mut seen_dirs = BTreeSet::new();
    // The gateway: the root wrangler.toml, whose `main` lies in its crate's build folder.
    match read_toml(&root.join("wrangler.toml")) {
        Ok(config) => {
            let main = config.get("main").and_then(|m| m.as_str()).unwrap_or("");
            match main.split_once("/build/") {
                Some((dir, _)) => {
                    let dir = root.join(dir);
                    seen_dirs.insert(dir.clone());
                    functions.push(Function {
                        name: name_of(&config, &dir),
                        dir,
                        wrangler: config,
                    });
                }
                None => problems.push(format!(
                    "wrangler.toml: `main` ({main:?}) is not a function crate's build output"
                )),
            }
        }
        Err(error) => problems.push(format!("wrangler.toml: {error}")),
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("functions"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        let config = dir.join("wrangler.toml");
        if config.exists() {
            match read_toml(&config) {
                Ok(wrangler) => functions.push(Function {
                    name: name_of(&wrangler, &dir),
                    dir,
                    wrangler,
                }),
                Err(error) => problems.push(format!("{}: {error}", config.display())),
            }
        } else if dir.join("Cargo.toml").exists() && !seen_dirs.contains(&dir) {
            problems.push(format!(
                "{}: a function crate without a wrangler.toml (not deployable, not audited)",
                dir.display()
            ));
        }
    }
    functions
}

fn name_of(config: &toml::Table, dir: &Path) -> String {
    config
        .get("name")
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| dir.file_name().unwrap_or_default().to_string_lossy().into())
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    text.parse::<toml::Table>().map_err(|e| e.to_string())
}

fn audit_function(function: &Function, report: &mut Report) {
    let name = &function.name;
    let mut declarations = Vec::new();
    for file in rust_files(&function.dir.join("src")) {
        let parsed = std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|text| syn::parse_file(&text).map_err(|e| e.to_string()));
        match parsed {
            Ok(ast) => scan_items(&ast.items, &file, &mut declarations, &mut report.problems),
            Err(error) => report
                .problems
                .push(format!("{name}: cannot parse {}: {error}", file.display())),
        }
    }
    let declaration = match declarations.len() {
        0 => {
            report.problems.push(format!(
                "{name}: no edge_adapter::serve! declaration: the function has no declared guard"
            ));
            report.rows.push(Row {
                function: name.clone(),
                guard: "**NONE**".into(),
                entry: "undeclared".into(),
                limits: String::new(),
                route: None,
            });
            return;
        }
        1 => declarations.remove(0),
        _ => {
            report.problems.push(format!(
                "{name}: more than one serve! declaration (one entry point per function)"
            ));
            return;
        }
    };
    let declaration = match syn::parse2::<Declaration>(declaration) {
        Ok(declaration) => declaration,
        Err(error) => {
            report
                .problems
                .push(format!("{name}: unreadable serve! declaration: {error}"));
            return;
        }
    };
    let mut secrets = BTreeSet::new();
    for route in &declaration.routes {
        match guard_secrets(&route.guard) {
            Some(names) => secrets.extend(names.iter().copied()),
            None => report.problems.push(format!(
                "{name}: guard {} has no entry in the audit's guard_secrets table",
                route.guard
            )),
        }
        if route.guard == "public" {
            let reason = route.reason.as_ref().map(|r| r.value()).unwrap_or_default();
            if reason.trim().len() < MIN_PUBLIC_REASON_LEN {
                report.problems.push(format!(
                    "{name}: public route {} {} has no written reason (at least {MIN_PUBLIC_REASON_LEN} characters)",
                    route.method, route.path
                ));
            }
        }
        let limits = match route.limits() {
            Ok(limits) => limits.to_string(),
            Err(problem) => {
                report.problems.push(format!(
                    "{name}: {} {}: {problem}",
                    route.method, route.path
                ));
                String::new()
            }
        };
        report.rows.push(Row {
            function: name.clone(),
            guard: route.describe_guard(),
            entry: format!("`{} {}`", route.method, route.path),
            limits,
            route: Some(DeclaredRoute {
                method: route.method.to_string(),
                path: route.path.clone(),
                guard: route.guard.clone(),
            }),
        });
    }
    let declared: BTreeSet<String> = declaration.schedules.iter().map(|s| s.value()).collect();
    let configured: BTreeSet<String> = function
        .wrangler
        .get("triggers")
        .and_then(|t| t.get("crons"))
        .and_then(|c| c.as_array())
        .map(|crons| {
            crons
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for cron in configured.difference(&declared) {
        report.problems.push(format!(
            "{name}: wrangler.toml triggers cron {cron:?}, which serve! does not declare"
        ));
    }
    for cron in declared.difference(&configured) {
        report.problems.push(format!(
            "{name}: serve! declares schedule {cron:?}, missing from wrangler.toml [triggers] crons"
        ));
    }
    for cron in &declared {
        report.rows.push(Row {
            function: name.clone(),
            guard: "scheduled event (platform)".into(),
            entry: format!("cron `{cron}`"),
            limits: String::new(),
            route: None,
        });
    }
    let counted = declaration.routes.iter().any(|route| {
        route
            .limits()
            .is_ok_and(|limits| limits.ip.is_some() || limits.account.is_some())
    });
    if counted {
        audit_rate_limiter_binding(function, report);
    }
    audit_queue(function, declaration.queue.map(|q| q.value()), report);
    report.secrets.push((name.clone(), secrets));
}

/// A function with a rate-limited route counts its hits in the rate-limiter worker's Durable
/// Object: without the binding every such request would answer 503 `not_configured`.
fn audit_rate_limiter_binding(function: &Function, report: &mut Report) {
    let bound = function
        .wrangler
        .get("durable_objects")
        .and_then(|d| d.get("bindings"))
        .and_then(|b| b.as_array())
        .is_some_and(|bindings| {
            bindings.iter().any(|b| {
                let field = |key: &str| b.get(key).and_then(|v| v.as_str());
                field("name") == Some("RATE_LIMITER")
                    && field("class_name") == Some("RateLimiter")
                    && field("script_name") == Some("rate-limiter")
            })
        });
    if !bound {
        report.problems.push(format!(
            "{}: routes are rate limited, but wrangler.toml has no [[durable_objects.bindings]] RATE_LIMITER (class RateLimiter, script rate-limiter)",
            function.name
        ));
    }
}

/// The queue `serve!` declares must be the one wrangler.toml's `[[queues.consumers]]` names, and
/// the other way round: a consumed queue without a declared consumer has no entry point.
fn audit_queue(function: &Function, declared: Option<String>, report: &mut Report) {
    let name = &function.name;
    let configured: BTreeSet<String> = function
        .wrangler
        .get("queues")
        .and_then(|q| q.get("consumers"))
        .and_then(|c| c.as_array())
        .map(|consumers| {
            consumers
                .iter()
                .filter_map(|c| c.get("queue").and_then(|q| q.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let declared: BTreeSet<String> = declared.into_iter().collect();
    for queue in configured.difference(&declared) {
        report.problems.push(format!(
            "{name}: wrangler.toml consumes queue {queue:?}, which serve! does not declare"
        ));
    }
    for queue in declared.difference(&configured) {
        report.problems.push(format!(
            "{name}: serve! declares queue {queue:?}, missing from wrangler.toml [[queues.consumers]]"
        ));
    }
    for queue in &declared {
        report.rows.push(Row {
            function: name.clone(),
            guard: "queue consumer (platform: only the platform's producers)".into(),
            entry: format!("queue `{queue}`"),
            route: None,
            limits: String::new(),
        });
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Collects `serve!` bodies and reports any `#[event(...)]` written by hand: an entry point
/// outside the declaration would serve requests no guard was declared for.
fn scan_items(
    items: &[syn::Item],
    file: &Path,
    declarations: &mut Vec<TokenStream>,
    problems: &mut Vec<String>,
) {
    for item in items {
        match item {
            syn::Item::Macro(m) if last_segment_is(&m.mac.path, "serve") => {
                declarations.push(m.mac.tokens.clone())
            }
            syn::Item::Fn(f) if f.attrs.iter().any(|a| last_segment_is(a.path(), "event")) => {
                problems.push(format!(
                    "{}: fn {} is an #[event] entry point outside serve!: its routes have no declared guard",
                    file.display(),
                    f.sig.ident
                ))
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    scan_items(items, file, declarations, problems);
                }
            }
            _ => {}
        }
    }
}

fn last_segment_is(path: &syn::Path, name: &str) -> bool {
    path.segments.last().is_some_and(|s| s.ident == name)
}

/// `routes { … } [schedules { … }] [queue { … }]`, as `edge_adapter::serve!` takes it.
struct Declaration {
    routes: Vec<RouteDecl>,
    schedules: Vec<LitStr>,
    /// The queue the function consumes, if any.
    queue: Option<LitStr>,
}

struct RouteDecl {
    method: Ident,
    path: String,
    guard: String,
    args: Option<TokenStream>,
    reason: Option<LitStr>,
    /// `[ip: 30 / 60, account: 10 / 3600]` after the handler: this route's own rates.
    overrides: Vec<(Ident, Rate)>,
}

impl RouteDecl {
    /// As the adapter serves them: the kind's defaults (`rate_limit`), then the overrides.
    fn limits(&self) -> Result<RouteLimits, String> {
        if RouteLimits::for_guard(&self.guard).is_none() {
            return Err(format!(
                "guard {} has no default rate limits (rate_limit::RouteLimits::for_guard)",
                self.guard
            ));
        }
        let mut limits = RouteLimits::for_route(&self.guard, self.method == "ANY");
        for (scope, rate) in &self.overrides {
            let scope = Scope::parse(&scope.to_string())
                .ok_or_else(|| format!("rate limit scope {scope} is not ip or account"))?;
            limits = limits.with(scope, *rate);
        }
        Ok(limits)
    }

    fn describe_guard(&self) -> String {
        match (&self.reason, &self.args) {
            (Some(reason), _) => format!(
                "public: \"{}\"",
                reason
                    .value()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            (None, Some(args)) => format!(
                "{} ({})",
                self.guard,
                args.to_string()
                    .replace("UserRequirement :: ", "")
                    .replace(" . ", ".")
                    .replace(" (", "(")
            ),
            (None, None) => self.guard.clone(),
        }
    }
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let keyword: Ident = input.parse()?;
        if keyword != "routes" {
            return Err(syn::Error::new(keyword.span(), "expected `routes { … }`"));
        }
        let body;
        braced!(body in input);
        let routes = Punctuated::<RouteDecl, Token![,]>::parse_terminated(&body)?
            .into_iter()
            .collect();
        let mut schedules = Vec::new();
        let mut queue = None;
        while !input.is_empty() {
            let keyword: Ident = input.parse()?;
            let body;
            braced!(body in input);
            if keyword == "schedules" && schedules.is_empty() && queue.is_none() {
                let entries = Punctuated::<ScheduleDecl, Token![,]>::parse_terminated(&body)?;
                schedules = entries.into_iter().map(|s| s.cron).collect();
            } else if keyword == "queue" && queue.is_none() {
                let name: LitStr = body.parse()?;
                body.parse::<Token![:]>()?;
                let _message: syn::Type = body.parse()?;
                body.parse::<Token![=>]>()?;
                let _consumer: syn::Path = body.parse()?;
                let _: Option<Token![,]> = body.parse()?;
                queue = Some(name);
            } else {
                return Err(syn::Error::new(
                    keyword.span(),
                    "expected `schedules { … }` then `queue { … }`",
                ));
            }
        }
        Ok(Self {
            routes,
            schedules,
            queue,
        })
    }
}

impl Parse for RouteDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let method: Ident = input.parse()?;
        let path: LitStr = input.parse()?;
        input.parse::<Token![=>]>()?;
        let guard: Ident = input.parse()?;
        let mut args = None;
        let mut reason = None;
        if input.peek(syn::token::Paren) {
            let inner;
            parenthesized!(inner in input);
            let tokens: TokenStream = inner.parse()?;
            if guard == "public" {
                reason = syn::parse2::<LitStr>(tokens.clone()).ok();
            }
            args = Some(tokens);
        }
        input.parse::<Token![=>]>()?;
        let _handler: syn::Path = input.parse()?;
        let mut overrides = Vec::new();
        if input.peek(syn::token::Bracket) {
            let inner;
            syn::bracketed!(inner in input);
            let entries = Punctuated::<RateDecl, Token![,]>::parse_terminated(&inner)?;
            overrides = entries.into_iter().map(|r| (r.scope, r.rate)).collect();
        }
        Ok(Self {
            method,
            path: path.value(),
            guard: guard.to_token_stream().to_string(),
            args,
            reason,
            overrides,
        })
    }
}

/// `ip: 30 / 60`: a scope, a limit and a window in seconds.
struct RateDecl {
    scope: Ident,
    rate: Rate,
}

impl Parse for RateDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let scope: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let limit: syn::LitInt = input.parse()?;
        input.parse::<Token![/]>()?;
        let window: syn::LitInt = input.parse()?;
        Ok(Self {
            scope,
            rate: Rate {
                limit: limit.base10_parse()?,
                window_secs: window.base10_parse()?,
            },
        })
    }
}

struct ScheduleDecl {
    cron: LitStr,
}

impl Parse for ScheduleDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let cron = input.parse()?;
        input.parse::<Token![=>]>()?;
        let _job: syn::Path = input.parse()?;
        Ok(Self { cron })
    }
}
