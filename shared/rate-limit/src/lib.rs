//! Rate limits as policy, free of `worker` so it builds and tests natively. What is limited:
//!
//! - **per client IP** (`CF-Connecting-IP`), counted on every request to the route *before* its
//!   guard runs, so anonymous traffic and failed credentials (token or signature guessing) are
//!   throttled like everything else;
//! - **per account** (the signed-in user, or an API key), counted after the guard let the
//!   request in.
//!
//! Each route declares its limits in `serve!` (defaults per route kind: [`RouteLimits::for_guard`]);
//! a counter is one fixed window per (scope, route, subject) ([`counter_key`]); the store (a
//! Durable Object per key) counts hits and asks [`decide`] what to answer.

use std::fmt;
use std::net::Ipv6Addr;

/// At most `limit` requests per `window_secs` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window_secs: u32,
}

impl Rate {
    pub const fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            window_secs: 60,
        }
    }

    /// The same window with `factor` times the requests (a deployment's `RATE_LIMIT_SCALE`).
    pub fn scaled(self, factor: u32) -> Self {
        Self {
            limit: self.limit.saturating_mul(factor.max(1)),
            ..self
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.window_secs {
            60 => write!(f, "{}/min", self.limit),
            3600 => write!(f, "{}/h", self.limit),
            secs => write!(f, "{}/{secs} s", self.limit),
        }
    }
}

/// Who a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The client address, before the guard.
    Ip,
    /// The principal the guard admitted (user id, API key id).
    Account,
}

impl Scope {
    /// The scope as `serve!` and the audit write it (`ip`, `account`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ip" => Some(Scope::Ip),
            "account" => Some(Scope::Account),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ip => "ip",
            Scope::Account => "account",
        }
    }
}

/// A route's limits. `None` means that scope is not counted on this route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteLimits {
    pub ip: Option<Rate>,
    pub account: Option<Rate>,
}

/// Signed-in SPA traffic: a person clicks, the SPA makes a few calls per view. Per IP it is
/// higher than per account, since an office or a mobile carrier puts many people behind one
/// address.
const USER_IP: Rate = Rate::per_minute(300);
const USER_ACCOUNT: Rate = Rate::per_minute(120);
/// Anonymous routes (a share link read by token): a person reads a link a few times; a
/// scraper or token guesser gets a minute's worth and waits.
const PUBLIC_IP: Rate = Rate::per_minute(60);
/// Providers deliver from a few addresses and retry anything but 2xx with backoff, so a 429
/// delays a delivery, it does not drop it. 600 a minute per address (10 a second, sustained)
/// is far above what one tenant's traffic sends, and bounds signature guessing per address.
const WEBHOOK_IP: Rate = Rate::per_minute(600);
/// Meta's subscribe handshake happens when a person saves the webhook settings.
const HANDSHAKE_IP: Rate = Rate::per_minute(30);
/// A scheduler (or a person) calling a job by HTTP.
const CRON_IP: Rate = Rate::per_minute(30);

impl RouteLimits {
    /// The default limits of a route kind (the guard's name in `serve!`); `None` for a kind this
    /// table does not know, so a new route kind comes with its limits (the audit fails without).
    /// A forwarding route (the gateway's `ANY`) is not limited: the function it forwards to is.
    pub fn for_guard(guard: &str) -> Option<Self> {
        let (ip, account) = match guard {
            "user" | "tenant_user" | "api_key" => (USER_IP, Some(USER_ACCOUNT)),
            "public" => (PUBLIC_IP, None),
            "paddle_webhook" | "meta_webhook" | "mercadopago_webhook" | "standard_webhooks" => {
                (WEBHOOK_IP, None)
            }
            "meta_subscription" => (HANDSHAKE_IP, None),
            "cron_secret" => (CRON_IP, None),
            _ => return None,
        };
        Some(Self {
            ip: Some(ip),
            account,
        })
    }

    /// The limits of a declared route: its kind's defaults, none for a forwarding (`ANY`) route
    /// (the function it forwards to counts), and none for a kind without defaults (the audit
    /// refuses such a route, [`RouteLimits::for_guard`]).
    pub fn for_route(guard: &str, forwards: bool) -> Self {
        match forwards {
            true => Self::UNLIMITED,
            false => Self::for_guard(guard).unwrap_or(Self::UNLIMITED),
        }
    }

    /// No counting at all: only for forwarding routes, whose target counts.
    pub const UNLIMITED: Self = Self {
        ip: None,
        account: None,
    };

    /// This route's own rate for `scope` (a `serve!` override).
    pub fn with(self, scope: Scope, rate: Rate) -> Self {
        match scope {
            Scope::Ip => Self {
                ip: Some(rate),
                ..self
            },
            Scope::Account => Self {
                account: Some(rate),
                ..self
            },
        }
    }

    pub fn rate(&self, scope: Scope) -> Option<Rate> {
        match scope {
            Scope::Ip => self.ip,
            Scope::Account => self.account,
        }
    }

    pub fn scaled(self, factor: u32) -> Self {
        Self {
            ip: self.ip.map(|r| r.scaled(factor)),
            account: self.account.map(|r| r.scaled(factor)),
        }
    }
}

impl fmt::Display for RouteLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [Scope::Ip, Scope::Account]
            .into_iter()
            .filter_map(|scope| Some(format!("{} {}", scope.as_str(), self.rate(scope)?)))
            .collect();
        if parts.is_empty() {
            f.write_str("none (forwards)")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// The subject an IP counter counts: the address Cloudflare saw (`CF-Connecting-IP`, which a
/// client cannot set through Cloudflare's edge). An IPv6 client counts by its /64, since one
/// subscriber usually holds a whole /64 and could otherwise rotate addresses inside it. A missing
/// or unparsable header counts as one shared subject, so it cannot escape counting.
pub fn ip_subject(cf_connecting_ip: Option<&str>) -> String {
    let Some(value) = cf_connecting_ip.map(str::trim) else {
        return "unknown".into();
    };
    if let Ok(v4) = value.parse::<std::net::Ipv4Addr>() {
        return v4.to_string();
    }
    match value.parse::<Ipv6Addr>() {
        Ok(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Err(_) => "unknown".into(),
    }
}

/// The name of one counter (a Durable Object per name): scope, route and subject. The route is
/// `METHOD path`, so two routes of one function count separately.
pub fn counter_key(scope: Scope, route: &str, subject: &str) -> String {
    format!("{}|{route}|{subject}", scope.as_str())
}

/// The start (ms since the epoch) of the fixed window of `window_secs` that holds `now_ms`.
pub fn window_start_ms(now_ms: u64, window_secs: u32) -> u64 {
    let window_ms = u64::from(window_secs.max(1)) * 1000;
    now_ms - now_ms % window_ms
}

/// What the store answers for one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    /// Requests left in this window after this one.
    pub remaining: u32,
    /// Whole seconds until the window ends (at least 1): the `Retry-After` of a refusal.
    pub retry_after_secs: u32,
}

/// The answer for the `hits`-th request (counting this one) of the window that started at
/// `window_start_ms`: exactly the first `limit` hits pass.
pub fn decide(rate: Rate, hits: u64, window_start_ms: u64, now_ms: u64) -> Decision {
    let window_end = window_start_ms + u64::from(rate.window_secs.max(1)) * 1000;
    let left_ms = window_end.saturating_sub(now_ms);
    Decision {
        allowed: hits <= u64::from(rate.limit),
        limit: rate.limit,
        remaining: u64::from(rate.limit).saturating_sub(hits) as u32,
        retry_after_secs: left_ms.div_ceil(1000).max(1) as u32,
    }
}

/// The query string the adapter sends the counter and the counter reads back: the rate travels
/// with every hit, so a changed declaration takes effect on the next request.
pub fn hit_query(rate: Rate) -> String {
    format!("limit={}&window={}", rate.limit, rate.window_secs)
}

/// Reads [`hit_query`]'s output; `None` for anything else.
pub fn parse_hit_query(query: &str) -> Option<Rate> {
    let mut limit = None;
    let mut window = None;
    for pair in query.split('&') {
        match pair.split_once('=')? {
            ("limit", v) => limit = v.parse().ok(),
            ("window", v) => window = v.parse().ok().filter(|w| (1..=86_400).contains(w)),
            _ => return None,
        }
    }
    Some(Rate {
        limit: limit?,
        window_secs: window?,
    })
}

/// The decision as the counter sends it back (`allowed remaining retry_after`), and read again.
pub fn encode_decision(decision: &Decision) -> String {
    format!(
        "{} {} {} {}",
        u8::from(decision.allowed),
        decision.limit,
        decision.remaining,
        decision.retry_after_secs
    )
}

pub fn decode_decision(text: &str) -> Option<Decision> {
    let mut fields = text.split(' ').map(str::parse::<u32>);
    let decision = Decision {
        allowed: fields.next()?.ok()? == 1,
        limit: fields.next()?.ok()?,
        remaining: fields.next()?.ok()?,
        retry_after_secs: fields.next()?.ok()?,
    };
    fields.next().is_none().then_some(decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_limit_passes_in_a_window() {
        let rate = Rate::per_minute(3);
        let start = window_start_ms(125_500, 60);
        assert_eq!(start, 120_000);
        let answers: Vec<bool> = (1..=5)
            .map(|hits| decide(rate, hits, start, 125_500).allowed)
            .collect();
        assert_eq!(answers, [true, true, true, false, false]);
        assert_eq!(decide(rate, 2, start, 125_500).remaining, 1);
        assert_eq!(decide(rate, 9, start, 125_500).remaining, 0);
    }

    #[test]
    fn retry_after_is_the_rest_of_the_window_rounded_up() {
        let rate = Rate::per_minute(1);
        assert_eq!(decide(rate, 2, 120_000, 125_500).retry_after_secs, 55);
        assert_eq!(decide(rate, 2, 120_000, 179_999).retry_after_secs, 1);
        // Never 0, even at the very end of a window.
        assert_eq!(decide(rate, 2, 120_000, 180_000).retry_after_secs, 1);
    }

    #[test]
    fn windows_are_aligned_per_length() {
        assert_eq!(window_start_ms(3_599_999, 3600), 0);
        assert_eq!(window_start_ms(3_600_000, 3600), 3_600_000);
        assert_eq!(window_start_ms(59_999, 60), 0);
    }

    #[test]
    fn ipv6_counts_by_its_64_and_garbage_is_one_subject() {
        assert_eq!(ip_subject(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(
            ip_subject(Some("2001:db8:1:2:aaaa::1")),
            ip_subject(Some("2001:db8:1:2:bbbb::2"))
        );
        assert_eq!(ip_subject(Some("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_ne!(
            ip_subject(Some("2001:db8:1:2::1")),
            ip_subject(Some("2001:db8:1:3::1"))
        );
        assert_eq!(ip_subject(None), "unknown");
        assert_eq!(ip_subject(Some("not an address|x")), "unknown");
    }

    #[test]
    fn every_route_kind_has_limits_and_overrides_replace_one_scope() {
        for guard in [
            "user",
            "tenant_user",
            "public",
            "paddle_webhook",
            "meta_webhook",
            "meta_subscription",
            "mercadopago_webhook",
            "standard_webhooks",
            "cron_secret",
        ] {
            let limits = RouteLimits::for_guard(guard).expect(guard);
            assert!(limits.ip.is_some(), "{guard} has a per-IP limit");
        }
        assert_eq!(RouteLimits::for_guard("something_new"), None);
        let user = RouteLimits::for_guard("user").unwrap();
        let tighter = user.with(Scope::Account, Rate::per_minute(5));
        assert_eq!(tighter.account, Some(Rate::per_minute(5)));
        assert_eq!(tighter.ip, user.ip);
        assert_eq!(tighter.to_string(), "ip 300/min, account 5/min");
        assert_eq!(RouteLimits::UNLIMITED.to_string(), "none (forwards)");
        assert_eq!(
            user.scaled(10).account,
            Some(Rate::per_minute(1200)),
            "a deployment's scale multiplies"
        );
    }

    #[test]
    fn counters_are_per_scope_route_and_subject() {
        let a = counter_key(Scope::Ip, "GET /functions/v1/notes", "203.0.113.7");
        assert_eq!(a, "ip|GET /functions/v1/notes|203.0.113.7");
        assert_ne!(
            a,
            counter_key(Scope::Account, "GET /functions/v1/notes", "203.0.113.7")
        );
        assert_ne!(
            a,
            counter_key(Scope::Ip, "POST /functions/v1/notes", "203.0.113.7")
        );
    }

    #[test]
    fn the_wire_format_round_trips_and_refuses_anything_else() {
        let rate = Rate {
            limit: 7,
            window_secs: 3600,
        };
        assert_eq!(parse_hit_query(&hit_query(rate)), Some(rate));
        assert_eq!(parse_hit_query("limit=7"), None);
        assert_eq!(parse_hit_query("limit=7&window=0"), None);
        assert_eq!(parse_hit_query("limit=7&window=60&x=1"), None);
        let decision = decide(rate, 8, 0, 1_000);
        assert_eq!(decode_decision(&encode_decision(&decision)), Some(decision));
        assert_eq!(decode_decision("1 2 3"), None);
        assert_eq!(decode_decision("1 2 3 4 5"), None);
    }
}
