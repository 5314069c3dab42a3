//! Rate limits declared in `serve!` (README "Rate limits"): exactly L of N concurrent requests
//! pass a limit of L; the rest get 429 `rate_limited` with `Retry-After`. Per client IP on
//! anonymous routes and on failed credentials (bad tokens, bad signatures, a wrong verify
//! token), per account after the guard. Each case counts under its own `CF-Connecting-IP`
//! (a fresh IPv6 /64 per attempt), so the cases stay independent of each other and of the rest of
//! the suite, which calls from 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libtest_mimic::Trial;

use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "rate limits: 80 concurrent anonymous share-link reads from one IP, exactly 60 pass",
            anonymous_reads_per_ip,
        ),
        Trial::test(
            "rate limits: 310 concurrent bad tokens from one IP, exactly 300 reach the guard",
            bad_tokens_per_ip,
        ),
        Trial::test(
            "rate limits: 620 concurrent badly signed Paddle deliveries, exactly 600 reach the guard",
            bad_signatures_per_ip,
        ),
        Trial::test(
            "rate limits: 40 concurrent wrong Meta verify tokens, exactly 30 reach the guard",
            wrong_verify_tokens_per_ip,
        ),
        Trial::test(
            "rate limits: 130 concurrent reads by one user, exactly 120 pass; other IPs do not reset it",
            reads_per_account,
        ),
    ]
}

/// The defaults of `shared/rate-limit` for these route kinds (per minute).
const PUBLIC_IP_LIMIT: usize = 60;
const USER_IP_LIMIT: usize = 300;
const USER_ACCOUNT_LIMIT: usize = 120;
const WEBHOOK_IP_LIMIT: usize = 600;
const HANDSHAKE_IP_LIMIT: usize = 30;
const WINDOW_SECS: u64 = 60;

/// A client address no other case or run uses: an IPv6 /64 of the documentation prefix.
fn fresh_ip() -> String {
    let n = unique_suffix();
    format!(
        "2001:db8:{:x}:{:x}::1",
        (n >> 16) as u16,
        (n as u16) ^ ((n >> 32) as u16)
    )
}

fn window_index() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / WINDOW_SECS
}

/// Sends `count` requests from 32 threads at once (each built by `request(i)`), all inside one
/// fixed window of the limiter: when less than `needed_secs` of the current window are left it
/// waits for the next, and a run that still crossed a boundary is repeated with a fresh
/// subject. `request` gets the attempt's subject (from `subject()`) and the request's index.
/// Returns the replies, the subject and the window they fell in.
fn burst(
    count: usize,
    needed_secs: u64,
    subject: impl Fn() -> String,
    request: impl Fn(&str, usize) -> Reply + Sync,
) -> Result<(Vec<Reply>, String, u64), libtest_mimic::Failed> {
    for _ in 0..3 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let into_window = now.as_millis() as u64 % (WINDOW_SECS * 1000);
        if into_window + needed_secs * 1000 > WINDOW_SECS * 1000 {
            std::thread::sleep(Duration::from_millis(
                WINDOW_SECS * 1000 - into_window + 200,
            ));
        }
        let started = window_index();
        let subject = subject();
        let next = AtomicUsize::new(0);
        let replies = Mutex::new(Vec::with_capacity(count));
        std::thread::scope(|scope| {
            for _ in 0..32 {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let reply = request(&subject, i);
                    replies.lock().unwrap().push(reply);
                });
            }
        });
        if window_index() == started {
            return Ok((replies.into_inner().unwrap(), subject, started));
        }
    }
    Err("every attempt crossed a limiter window boundary".into())
}

/// Exactly `limit` replies are not 429 and each of those has status `passed_status` (what the
/// route answers a request it let through), and every 429 is the documented refusal for `scope`.
fn exactly_limit_passed(
    replies: &[Reply],
    limit: usize,
    scope: &str,
    passed_status: u16,
) -> TestResult {
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    let passed = replies.len() - limited.len();
    check!(
        passed == limit,
        "{passed} of {} passed a limit of {limit}",
        replies.len()
    );
    check!(
        replies
            .iter()
            .all(|r| r.status == 429 || r.status == passed_status),
        "every request let through answered {passed_status}: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for reply in limited {
        check!(
            reply.error_code() == "rate_limited",
            "429 code: {}",
            reply.body
        );
        check!(
            reply.json()["error"]["scope"] == scope,
            "429 scope: {}",
            reply.body
        );
        let retry_after: u64 = reply
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("429 without a Retry-After in seconds: {:?}", reply.headers))?;
        check!(
            (1..=WINDOW_SECS).contains(&retry_after),
            "Retry-After {retry_after} is within the window"
        );
        check!(
            reply.json()["error"]["retry_after_secs"] == retry_after,
            "the body repeats Retry-After: {}",
            reply.body
        );
    }
    Ok(())
}

fn anonymous_reads_per_ip() -> TestResult {
    let origin = format!("http://127.0.0.1:{}", var("LOCAL_SPA_PORT"));
    let (replies, _, _) = burst(PUBLIC_IP_LIMIT + 20, 20, fresh_ip, |ip, i| {
        get(
            &functions_url("share-links/note"),
            &[
                ("cf-connecting-ip", ip),
                ("x-share-token", &format!("guessed-token-{i}")),
                ("origin", &origin),
            ],
        )
    })?;
    exactly_limit_passed(&replies, PUBLIC_IP_LIMIT, "ip", 404)?;
    // The SPA can read the refusal: CORS headers stay on, Retry-After exposed.
    let limited = replies.iter().find(|r| r.status == 429).unwrap();
    check!(
        limited.header("access-control-allow-origin") == Some(origin.as_str()),
        "429 carries the CORS headers: {:?}",
        limited.headers
    );
    check!(
        limited.header("access-control-expose-headers") == Some("Retry-After"),
        "Retry-After is exposed to the page"
    );
    Ok(())
}

fn bad_tokens_per_ip() -> TestResult {
    let forged = access_token(
        "a-secret-that-is-not-the-projects-secret-at-all",
        "authenticated",
        Some(USER_A),
        unix_now() + 600,
    );
    let (replies, _, _) = burst(USER_IP_LIMIT + 10, 40, fresh_ip, |ip, i| {
        let token = if i % 2 == 0 {
            forged.as_str()
        } else {
            "garbage"
        };
        get(
            &functions_url("notes"),
            &[("cf-connecting-ip", ip), ("authorization", &bearer(token))],
        )
    })?;
    exactly_limit_passed(&replies, USER_IP_LIMIT, "ip", 401)?;
    Ok(())
}

fn bad_signatures_per_ip() -> TestResult {
    let (replies, _, _) = burst(WEBHOOK_IP_LIMIT + 20, 50, fresh_ip, |ip, _| {
        let (_, body) = paddle_event("rate-limit");
        let signature = paddle_signature("pdl_ntfset_guessed_secret", unix_now(), body.as_bytes());
        post(
            &functions_url("paddle-webhook"),
            &[
                ("cf-connecting-ip", ip),
                ("paddle-signature", &signature),
                ("content-type", "application/json"),
            ],
            body.as_bytes(),
        )
    })?;
    exactly_limit_passed(&replies, WEBHOOK_IP_LIMIT, "ip", 401)?;
    Ok(())
}

fn wrong_verify_tokens_per_ip() -> TestResult {
    let (replies, _, _) = burst(HANDSHAKE_IP_LIMIT + 10, 20, fresh_ip, |ip, i| {
        get(
            &functions_url(&format!(
                "meta-webhook?hub.mode=subscribe&hub.challenge=42&hub.verify_token=guess-{i}"
            )),
            &[("cf-connecting-ip", ip)],
        )
    })?;
    exactly_limit_passed(&replies, HANDSHAKE_IP_LIMIT, "ip", 403)?;
    Ok(())
}

/// The subject of an account case: a fresh address and a fresh user, `<ip> <user id>`.
fn fresh_ip_and_user() -> String {
    format!("{} {}", fresh_ip(), TestUser::fresh("rate-limited").id)
}

fn reads_per_account() -> TestResult {
    let (replies, subject, window) = burst(
        USER_ACCOUNT_LIMIT + 10,
        40,
        fresh_ip_and_user,
        |subject, _| {
            let (ip, user) = subject.split_once(' ').unwrap();
            get(
                &functions_url("notes"),
                &[
                    ("cf-connecting-ip", ip),
                    ("authorization", &bearer(&user_token(user))),
                ],
            )
        },
    )?;
    exactly_limit_passed(&replies, USER_ACCOUNT_LIMIT, "account", 200)?;
    // The account's count follows the user to another address; another user is not affected.
    let (_, user) = subject.split_once(' ').unwrap();
    let elsewhere = get(
        &functions_url("notes"),
        &[
            ("cf-connecting-ip", &fresh_ip()),
            ("authorization", &bearer(&user_token(user))),
        ],
    );
    let other = get(
        &functions_url("notes"),
        &[
            ("cf-connecting-ip", &fresh_ip()),
            (
                "authorization",
                &bearer(&user_token(&TestUser::fresh("not-limited").id)),
            ),
        ],
    );
    // (Only while the window lasts: the next one starts every count over.)
    if window_index() == window {
        check!(
            elsewhere.status == 429,
            "the same user from another IP is still limited: {}",
            elsewhere.status
        );
    }
    check!(other.status == 200, "another user reads: {}", other.status);
    Ok(())
}
