//! Shared by the targets (included with `mod common;`).
#![allow(dead_code)] // each target uses only some of these

use edge_guard::Refusal;

/// A fixed "now" near the seed corpus timestamps, so well-formed inputs reach the HMAC check.
pub const NOW: u64 = 1_742_505_638;

/// The input's first `N` lines (`\n`-separated), the last one taking the rest; `None` if it is
/// not UTF-8 (header values reach the guard as `&str`).
pub fn fields<const N: usize>(data: &[u8]) -> Option<[&str; N]> {
    let text = std::str::from_utf8(data).ok()?;
    let mut parts = text.splitn(N, '\n');
    Some(std::array::from_fn(|_| parts.next().unwrap_or("")))
}

/// Random input must never pass a check, and every refusal is a client error with a code.
pub fn assert_refused<T>(result: Result<T, Refusal>) {
    match result {
        Ok(_) => panic!("a fuzzed input passed a guard check"),
        Err(refusal) => {
            assert!(matches!(refusal.status, 400 | 401 | 403), "{refusal:?}");
            assert!(!refusal.code.is_empty());
        }
    }
}
