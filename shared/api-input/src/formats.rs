//! Bounded strings with a shape: an e-mail address and an https URL. Each checks only what the
//! database's own constraints also require, so a value these accept is never refused later
//! without naming its field.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::Text;

/// An e-mail address as the invitations table stores it: `local@domain`, no whitespace, at most
/// 320 characters (RFC 5321's limit), no control characters.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Option<Self> {
        let text = Text::<3, 320>::new(value.to_owned()).ok()?;
        let (local, domain) = text.as_str().split_once('@')?;
        let plain = |part: &str| !part.is_empty() && !part.contains(['@', ' ', '\t', '\n']);
        (plain(local) && plain(domain)).then(|| Self(text.into_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // Personal data: never in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(withheld)")
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| D::Error::custom("not an e-mail address"))
    }
}

/// An `https://` URL of at most `MAX` characters, without whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct HttpsUrl<const MAX: usize>(String);

impl<const MAX: usize> HttpsUrl<MAX> {
    pub fn parse(value: &str) -> Option<Self> {
        let text = Text::<9, MAX>::new(value.to_owned()).ok()?;
        let rest = text.as_str().strip_prefix("https://")?;
        (!rest.is_empty() && !rest.contains(char::is_whitespace)).then(|| Self(text.into_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for HttpsUrl<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| D::Error::custom("not an https URL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_have_one_at_and_no_spaces() {
        assert!(Email::parse("ana@example.com").is_some());
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "a b@example.com",
            "a@b@c",
            "a@b\u{1b}",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(320))).is_none());
        assert_eq!(
            format!("{:?}", Email::parse("ana@example.com").unwrap()),
            "Email(withheld)"
        );
    }

    #[test]
    fn urls_are_https_and_bounded() {
        assert!(HttpsUrl::<100>::parse("https://cdn.example.com/a.png").is_some());
        for bad in [
            "http://x.test",
            "https://",
            "https://a b",
            "javascript:alert(1)",
        ] {
            assert!(HttpsUrl::<100>::parse(bad).is_none(), "{bad:?}");
        }
        assert!(HttpsUrl::<20>::parse("https://example.com/long/path").is_none());
    }
}
