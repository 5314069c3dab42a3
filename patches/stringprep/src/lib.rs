//! SASLprep (RFC 4013) reduced to what the workers need, without the Unicode tables
//! (normalization, bidi, properties) that made up about a tenth of every database worker.
//!
//! postgres-protocol calls [`saslprep`] on the password before SCRAM-SHA-256 and uses the raw
//! bytes when it fails. For printable ASCII, SASLprep is the identity (RFC 4013 maps only
//! non-ASCII characters; of ASCII it prohibits only the control characters), so the answer below
//! is the real one. Anything else is refused here, and the client falls back to the raw bytes:
//! the same result as real SASLprep for any password that NFKC leaves alone and that holds no
//! mapped character (non-ASCII spaces, soft hyphen, …); for others the login fails (README,
//! Limits).

use std::borrow::Cow;
use std::fmt;

/// The string is not printable ASCII, which this SASLprep does not handle.
#[derive(Debug)]
pub struct Error(());

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("only printable ASCII is prepared (rls-edge's SASLprep without tables)")
    }
}

impl std::error::Error for Error {}

/// `s` unchanged when it is printable ASCII (where SASLprep is the identity), else an error.
pub fn saslprep(s: &str) -> Result<Cow<'_, str>, Error> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(Cow::Borrowed(s))
    } else {
        Err(Error(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_unchanged_and_the_rest_refused() {
        assert_eq!(saslprep("pencil user 1!~").unwrap(), "pencil user 1!~");
        assert_eq!(saslprep("").unwrap(), "");
        for refused in ["tab\there", "del\u{7f}", "I\u{00AD}X", "\u{2168}", "caf\u{e9}"] {
            assert!(saslprep(refused).is_err(), "{refused:?}");
        }
    }
}
