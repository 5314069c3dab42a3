//! The browser edge of every function, as policy: which origins may call across origins (an
//! allowlist configured per deployment), what a preflight on a declared route is answered with,
//! which routes are browser-facing at all (webhooks and cron are not), and the security headers
//! every response carries. The adapter (`shared/edge-adapter`) only wires this to workers-rs.
//!
//! # The allowlist (`CORS_ALLOWED_ORIGINS`)
//!
//! Comma-separated origins, each `scheme://host[:port]` exactly as a browser sends `Origin`
//! (no path, no trailing slash). One pattern form exists for preview deployments:
//! `https://*.<suffix>` allows `https://<label>.<suffix>` where `<label>` is exactly one DNS
//! label (letters, digits, `-`; not starting or ending with `-`): `https://*.preview.example.com`
//! allows `https://pr-42.preview.example.com` but neither `https://a.b.preview.example.com` nor
//! `https://preview.example.com` nor `http://pr-42.preview.example.com`. The suffix must have at
//! least two labels (`https://*.com` is refused) and patterns are `https` only. An empty or
//! absent list allows no origin.

use std::fmt;

/// The request headers a preflight may ask for: what supabase-js sends with every
/// `functions.invoke` (`authorization`, `apikey`, `content-type`, `x-client-info`), plus the
/// platform's own headers a browser sends to read a shared note or accept an invitation.
pub const ALLOWED_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "apikey",
    "content-type",
    "x-client-info",
    "x-share-token",
    "x-invitation-token",
];

/// How long a browser may cache a preflight answer: 2 hours, Chromium's own cap (Firefox caps at
/// 24 h), so one preflight per route and origin every two hours at most.
pub const PREFLIGHT_MAX_AGE_SECS: u32 = 7200;

/// Headers on every response, errors included. The API serves JSON to scripts, never documents
/// to frame or to cache: nothing may embed it, sniff it, cache it or learn the referring page.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    // Every answer depends on the caller's credentials or is an error: never stored anywhere.
    ("cache-control", "no-store"),
];

/// Who a route is for, from its guard as declared in `serve!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Called by browsers (a signed-in user, or a public route with a declared method): answers
    /// preflights and carries CORS headers for allowed origins.
    Browser,
    /// Called server to server (webhook providers, cron) or a route taking ANY method (the
    /// gateway, which forwards OPTIONS to the function behind it): no CORS at all.
    Server,
}

impl Audience {
    /// The audience of a route declared with `guard` (the `serve!` guard name);
    /// `any_method` for an `ANY` route.
    pub fn of_guard(guard: &str, any_method: bool) -> Self {
        match guard {
            _ if any_method => Audience::Server,
            "user" | "tenant_user" | "public" => Audience::Browser,
            _ => Audience::Server,
        }
    }
}

/// A `CORS_ALLOWED_ORIGINS` entry that is not an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOrigin(pub String);

impl fmt::Display for InvalidOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not an origin (scheme://host[:port], or https://*.<domain>.<tld>): {:?}",
            self.0
        )
    }
}

impl std::error::Error for InvalidOrigin {}

/// The origins allowed to call across origins, parsed once from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    exact: Vec<String>,
    /// `.suffix` of each `https://*.suffix` pattern.
    preview_suffixes: Vec<String>,
}

impl AllowedOrigins {
    /// Parses the comma-separated list; any entry that is not an origin fails the whole list
    /// (a typo must not silently allow nothing, or more than meant).
    pub fn parse(list: &str) -> Result<Self, InvalidOrigin> {
        let mut allowed = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let invalid = || InvalidOrigin(entry.to_owned());
            if let Some(suffix) = entry.strip_prefix("https://*.") {
                let labels: Vec<&str> = suffix.split('.').collect();
                if labels.len() < 2 || !labels.iter().all(|l| is_dns_label(l)) {
                    return Err(invalid());
                }
                allowed
                    .preview_suffixes
                    .push(format!(".{}", suffix.to_ascii_lowercase()));
            } else if is_origin(&entry.to_ascii_lowercase()) {
                allowed.exact.push(entry.to_ascii_lowercase());
            } else {
                return Err(invalid());
            }
        }
        Ok(allowed)
    }

    /// Whether `origin` (the request's `Origin` header, as sent) may call across origins.
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        if !is_origin(&origin) {
            return false;
        }
        if self.exact.contains(&origin) {
            return true;
        }
        let Some(host) = origin.strip_prefix("https://") else {
            return false;
        };
        self.preview_suffixes
            .iter()
            .any(|suffix| host.strip_suffix(suffix.as_str()).is_some_and(is_dns_label))
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.preview_suffixes.is_empty()
    }
}

/// `http(s)://host[:port]`: host of DNS labels (or an IPv4 address), nothing after the port.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && !host.is_empty() && host.split('.').all(is_dns_label)
}

fn is_dns_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Why a preflight was refused: answered 403 with this code, without any CORS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreflightRefusal {
    /// No `Origin`, or one not on the allowlist.
    OriginNotAllowed,
    /// `Access-Control-Request-Method` missing or not one of the route's methods.
    MethodNotAllowed,
    /// `Access-Control-Request-Headers` names a header outside [`ALLOWED_REQUEST_HEADERS`].
    HeaderNotAllowed,
}

impl PreflightRefusal {
    pub fn code(self) -> &'static str {
        match self {
            PreflightRefusal::OriginNotAllowed => "origin_not_allowed",
            PreflightRefusal::MethodNotAllowed => "cors_method_not_allowed",
            PreflightRefusal::HeaderNotAllowed => "cors_header_not_allowed",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            PreflightRefusal::OriginNotAllowed => {
                "this origin may not call this API from a browser"
            }
            PreflightRefusal::MethodNotAllowed => {
                "this endpoint does not accept that method from a browser"
            }
            PreflightRefusal::HeaderNotAllowed => {
                "a requested header is not accepted from a browser"
            }
        }
    }
}

/// A preflight request as the browser sent it.
#[derive(Debug, Clone, Copy, Default)]
pub struct PreflightRequest<'a> {
    pub origin: Option<&'a str>,
    pub method: Option<&'a str>,
    pub headers: Option<&'a str>,
}

/// Answers a preflight on a path whose browser-facing routes accept `route_methods`: the headers
/// of the 204, or why it is refused.
pub fn preflight(
    allowed: &AllowedOrigins,
    request: PreflightRequest<'_>,
    route_methods: &[&str],
) -> Result<Vec<(&'static str, String)>, PreflightRefusal> {
    let origin = request
        .origin
        .filter(|origin| allowed.allows(origin))
        .ok_or(PreflightRefusal::OriginNotAllowed)?;
    let method = request.method.map(str::trim).unwrap_or_default();
    if !route_methods.contains(&method) {
        return Err(PreflightRefusal::MethodNotAllowed);
    }
    let every_header_allowed = request
        .headers
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .all(|h| {
            ALLOWED_REQUEST_HEADERS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(h))
        });
    if !every_header_allowed {
        return Err(PreflightRefusal::HeaderNotAllowed);
    }
    Ok(vec![
        ("access-control-allow-origin", origin.to_owned()),
        ("access-control-allow-methods", route_methods.join(", ")),
        (
            "access-control-allow-headers",
            ALLOWED_REQUEST_HEADERS.join(", "),
        ),
        ("access-control-max-age", PREFLIGHT_MAX_AGE_SECS.to_string()),
        ("vary", "Origin".to_owned()),
    ])
}

/// CORS headers for an actual (non-preflight) response on a browser-facing path: the allowed
/// origin echoed (never a list, never `*`), and always `Vary: Origin` so a cache never hands one
/// origin's answer to another. `Retry-After` (of a 429) is exposed to the page: it is not a
/// header browsers show scripts by default.
pub fn response_headers(
    allowed: &AllowedOrigins,
    origin: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![("vary", "Origin".to_owned())];
    if let Some(origin) = origin.filter(|o| allowed.allows(o)) {
        headers.push(("access-control-allow-origin", origin.to_owned()));
        headers.push(("access-control-expose-headers", "Retry-After".to_owned()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPA: &str = "https://app.example.com";

    fn allowlist() -> AllowedOrigins {
        AllowedOrigins::parse(
            " https://app.example.com , http://127.0.0.1:54334,https://*.preview.example.com",
        )
        .unwrap()
    }

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn exact_origins_match_exactly() {
        let allowed = allowlist();
        assert!(allowed.allows(SPA));
        assert!(allowed.allows("HTTPS://APP.EXAMPLE.COM"));
        assert!(allowed.allows("http://127.0.0.1:54334"));
        for refused in [
            "http://app.example.com",
            "https://app.example.com:8443",
            "https://app.example.com/",
            "https://app.example.com.evil.test",
            "https://evilapp.example.com",
            "http://127.0.0.1:54335",
            "http://127.0.0.1",
            "null",
            "",
            "*",
        ] {
            assert!(!allowed.allows(refused), "{refused}");
        }
    }

    #[test]
    fn preview_pattern_allows_one_label_over_https_only() {
        let allowed = allowlist();
        assert!(allowed.allows("https://pr-42.preview.example.com"));
        for refused in [
            "https://a.b.preview.example.com",
            "https://preview.example.com",
            "https://.preview.example.com",
            "http://pr-42.preview.example.com",
            "https://-x.preview.example.com",
            "https://pr-42.preview.example.com.evil.test",
            "https://pr-42preview.example.com",
            "https://pr-42.preview.example.com:444",
        ] {
            assert!(!allowed.allows(refused), "{refused}");
        }
    }

    #[test]
    fn configuration_typos_fail_the_whole_list() {
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://*.com",
            "http://*.preview.example.com",
            "https://*",
            "*",
            "https://app.example.com:port",
            "https://pr-*.example.com",
        ] {
            assert_eq!(
                AllowedOrigins::parse(bad),
                Err(InvalidOrigin(bad.into())),
                "{bad}"
            );
        }
        assert!(AllowedOrigins::parse("").unwrap().is_empty());
        assert!(!AllowedOrigins::parse("").unwrap().allows(SPA));
    }

    #[test]
    fn an_allowed_preflight_names_the_routes_methods_and_supabase_js_headers() {
        let headers = preflight(
            &allowlist(),
            PreflightRequest {
                origin: Some(SPA),
                method: Some("POST"),
                headers: Some("authorization, x-client-info, apikey, content-type"),
            },
            &["GET", "POST"],
        )
        .unwrap();
        assert_eq!(header(&headers, "access-control-allow-origin"), Some(SPA));
        assert_eq!(
            header(&headers, "access-control-allow-methods"),
            Some("GET, POST")
        );
        let allowed_headers = header(&headers, "access-control-allow-headers").unwrap();
        for sent in ["authorization", "apikey", "content-type", "x-client-info"] {
            assert!(allowed_headers.contains(sent), "{sent}");
        }
        assert_eq!(header(&headers, "access-control-max-age"), Some("7200"));
        assert_eq!(header(&headers, "vary"), Some("Origin"));
    }

    #[test]
    fn refused_preflights_say_why() {
        let request = |origin, method, headers| PreflightRequest {
            origin,
            method,
            headers,
        };
        let allowed = allowlist();
        let cases = [
            (
                request(Some("https://evil.test"), Some("GET"), None),
                PreflightRefusal::OriginNotAllowed,
            ),
            (
                request(None, Some("GET"), None),
                PreflightRefusal::OriginNotAllowed,
            ),
            (
                request(Some(SPA), Some("DELETE"), None),
                PreflightRefusal::MethodNotAllowed,
            ),
            (
                request(Some(SPA), None, None),
                PreflightRefusal::MethodNotAllowed,
            ),
            (
                request(Some(SPA), Some("get"), None),
                PreflightRefusal::MethodNotAllowed,
            ),
            (
                request(
                    Some(SPA),
                    Some("GET"),
                    Some("authorization, x-forwarded-for"),
                ),
                PreflightRefusal::HeaderNotAllowed,
            ),
        ];
        for (request, refusal) in cases {
            assert_eq!(
                preflight(&allowed, request, &["GET"]),
                Err(refusal),
                "{request:?}"
            );
        }
        assert_eq!(
            preflight(
                &AllowedOrigins::default(),
                request(Some(SPA), Some("GET"), None),
                &["GET"]
            ),
            Err(PreflightRefusal::OriginNotAllowed)
        );
    }

    #[test]
    fn actual_responses_echo_only_an_allowed_origin_and_always_vary() {
        let allowed = allowlist();
        let ok = response_headers(&allowed, Some(SPA));
        assert_eq!(header(&ok, "access-control-allow-origin"), Some(SPA));
        assert_eq!(
            header(&ok, "access-control-expose-headers"),
            Some("Retry-After")
        );
        assert_eq!(header(&ok, "vary"), Some("Origin"));
        for origin in [Some("https://evil.test"), None] {
            let refused = response_headers(&allowed, origin);
            assert_eq!(header(&refused, "access-control-allow-origin"), None);
            assert_eq!(header(&refused, "vary"), Some("Origin"));
        }
    }

    #[test]
    fn webhooks_cron_and_any_routes_are_not_browser_facing() {
        for guard in ["user", "tenant_user", "public"] {
            assert_eq!(Audience::of_guard(guard, false), Audience::Browser);
        }
        for guard in [
            "paddle_webhook",
            "meta_webhook",
            "meta_subscription",
            "mercadopago_webhook",
            "standard_webhooks",
            "cron_secret",
        ] {
            assert_eq!(Audience::of_guard(guard, false), Audience::Server);
        }
        assert_eq!(Audience::of_guard("public", true), Audience::Server);
    }

    #[test]
    fn security_headers_cover_the_required_set() {
        let names: Vec<&str> = SECURITY_HEADERS.iter().map(|(n, _)| *n).collect();
        for required in [
            "x-content-type-options",
            "referrer-policy",
            "x-frame-options",
            "content-security-policy",
            "permissions-policy",
            "strict-transport-security",
            "cache-control",
        ] {
            assert!(names.contains(&required), "{required}");
        }
        let csp = SECURITY_HEADERS
            .iter()
            .find(|(n, _)| *n == "content-security-policy")
            .unwrap()
            .1;
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
