//! Typed, bounded input ("parse, don't validate"): a request body becomes a struct, or a 400
//! whose code says what is wrong and whose `field` says where.
//!
//! A body type derives `Deserialize` with `#[serde(deny_unknown_fields)]` and uses the bounded
//! types below for its strings, so every limit is part of the type:
//!
//! ```
//! use api_input::{parse_json, Text};
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct NewNote { title: Text<1, 200>, body: Option<Text<0, 20_000>> }
//!
//! let note: NewNote = parse_json(br#"{"title":"Plan"}"#).unwrap();
//! assert_eq!(note.title.as_str(), "Plan");
//! let refused = parse_json::<NewNote>(br#"{"title":""}"#).err().unwrap();
//! assert_eq!((refused.code(), refused.field()), ("invalid_field", "title"));
//! ```

mod formats;

use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};

pub use formats::{Email, HttpsUrl};

/// Why a body was refused. Always answered as 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} at {field:?}: {detail}")]
pub struct InputError {
    kind: InputErrorKind,
    field: String,
    /// serde's own words; never echoes the rejected value itself.
    detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputErrorKind {
    /// Not JSON at all, or not the JSON shape expected at the top level.
    Malformed,
    /// A field this endpoint does not know.
    UnknownField,
    /// A field the endpoint requires is absent.
    MissingField,
    /// A field is present but its value is out of bounds or of the wrong type.
    InvalidField,
}

impl InputError {
    /// The stable code clients match on.
    pub fn code(&self) -> &'static str {
        match self.kind {
            InputErrorKind::Malformed => "malformed_json",
            InputErrorKind::UnknownField => "unknown_field",
            InputErrorKind::MissingField => "missing_field",
            InputErrorKind::InvalidField => "invalid_field",
        }
    }

    pub fn kind(&self) -> InputErrorKind {
        self.kind
    }

    /// Where: the field's path (`title`, `members[2].role`); empty for the whole body.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// A message safe to show: it names the problem, never the rejected value.
    pub fn message(&self) -> &'static str {
        match self.kind {
            InputErrorKind::Malformed => "the body must be a JSON object of the documented shape",
            InputErrorKind::UnknownField => "the body has a field this endpoint does not accept",
            InputErrorKind::MissingField => "the body lacks a field this endpoint requires",
            InputErrorKind::InvalidField => "a field's value is not allowed (see `field`)",
        }
    }
}

/// Parses `body` as `T`. The caller has already capped the body's size.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, InputError> {
    // serde also fills a struct from a JSON array, by position: a body is an object or nothing.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(InputError {
            kind: InputErrorKind::Malformed,
            field: String::new(),
            detail: "the body is not a JSON object".into(),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let detail = inner.to_string();
        let (kind, field) = classify(&inner, &detail, path);
        InputError {
            kind,
            field,
            detail,
        }
    })?;
    // Trailing bytes after the object (a second document, garbage) are refused too.
    deserializer.end().map_err(|error| InputError {
        kind: InputErrorKind::Malformed,
        field: String::new(),
        detail: error.to_string(),
    })?;
    Ok(value)
}

/// serde_path_to_error's path ends at an unknown field's name, but at the object that lacks a
/// missing field; serde names the missing one between backticks in its message.
fn classify(error: &serde_json::Error, detail: &str, path: String) -> (InputErrorKind, String) {
    let path = if path == "." { String::new() } else { path };
    let named = || {
        let name = detail.split('`').nth(1).unwrap_or_default();
        match (path.is_empty(), name.is_empty()) {
            (_, true) => path.clone(),
            (true, false) => name.to_owned(),
            (false, false) => format!("{path}.{name}"),
        }
    };
    if error.is_syntax() || error.is_eof() || error.is_io() {
        (InputErrorKind::Malformed, String::new())
    } else if detail.starts_with("unknown field") {
        (InputErrorKind::UnknownField, path)
    } else if detail.starts_with("missing field") {
        (InputErrorKind::MissingField, named())
    } else if path.is_empty() {
        (InputErrorKind::Malformed, path)
    } else {
        (InputErrorKind::InvalidField, path)
    }
}

/// A string of `MIN..=MAX` characters (Unicode scalar values), with no control characters but
/// newline and tab, and no NUL (Postgres text cannot hold it).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    pub fn new(value: String) -> Result<Self, &'static str> {
        let chars = value.chars().count();
        if chars < MIN {
            return Err("shorter than allowed");
        }
        if chars > MAX {
            return Err("longer than allowed");
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err("contains a control character");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize> fmt::Debug for Text<MIN, MAX> {
    // The length only: input may carry personal data, and Debug output reaches logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({} chars)", self.0.chars().count())
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// A whole number within `MIN..=MAX` (a JSON number without fraction or exponent beyond it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Number<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Number<MIN, MAX> {
    pub fn new(value: i64) -> Result<Self, &'static str> {
        if value < MIN {
            Err("smaller than allowed")
        } else if value > MAX {
            Err("larger than allowed")
        } else {
            Ok(Self(value))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Number<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(i64::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// A uuid in its canonical text form (8-4-4-4-12 hex digits), as Postgres prints it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Uuid(String);

impl Uuid {
    pub fn parse(value: &str) -> Option<Self> {
        let bytes = value.as_bytes();
        let shaped = bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        shaped.then(|| Self(value.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| D::Error::custom("not a uuid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Member {
        role: Text<1, 10>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        title: Text<1, 5>,
        #[serde(default)]
        owner: Option<Uuid>,
        #[serde(default)]
        members: Vec<Member>,
    }

    fn refused(body: &str) -> (&'static str, String) {
        let error = parse_json::<Body>(body.as_bytes()).unwrap_err();
        (error.code(), error.field().to_owned())
    }

    #[test]
    fn a_valid_body_parses() {
        let body: Body =
            parse_json(br#"{"title":"abc","owner":"A0000000-0000-4000-8000-00000000000A"}"#)
                .unwrap();
        assert_eq!(body.title.as_str(), "abc");
        assert_eq!(
            body.owner.unwrap().as_str(),
            "a0000000-0000-4000-8000-00000000000a"
        );
        let body: Body = parse_json(br#"{"title":"a","members":[{"role":"admin"}]}"#).unwrap();
        assert_eq!(body.members[0].role.as_str(), "admin");
    }

    #[test]
    fn each_failure_names_its_field() {
        assert_eq!(
            refused(r#"{"title":""}"#),
            ("invalid_field", "title".into())
        );
        assert_eq!(
            refused(r#"{"title":"abcdef"}"#),
            ("invalid_field", "title".into())
        );
        assert_eq!(refused(r#"{"title":7}"#), ("invalid_field", "title".into()));
        assert_eq!(
            refused(r#"{"title":"a","owner":"nope"}"#),
            ("invalid_field", "owner".into())
        );
        assert_eq!(
            refused(r#"{"title":"a","x":1}"#),
            ("unknown_field", "x".into())
        );
        assert_eq!(refused(r#"{}"#), ("missing_field", "title".into()));
        assert_eq!(
            refused(r#"{"title":"a","members":[{"role":"r"},{"role":""}]}"#),
            ("invalid_field", "members[1].role".into())
        );
        assert_eq!(
            refused(r#"{"title":"a","members":[{"role":"r","admin":true}]}"#),
            ("unknown_field", "members[0].admin".into())
        );
        assert_eq!(
            refused(r#"{"title":"a","members":[{}]}"#),
            ("missing_field", "members[0].role".into())
        );
    }

    #[test]
    fn what_is_not_an_object_is_malformed() {
        assert_eq!(refused(""), ("malformed_json", String::new()));
        assert_eq!(refused("{"), ("malformed_json", String::new()));
        assert_eq!(refused("[1]"), ("malformed_json", String::new()));
        assert_eq!(
            refused(r#"{"title":"a"} {}"#),
            ("malformed_json", String::new())
        );
        assert_eq!(refused("\u{0}"), ("malformed_json", String::new()));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(Text::<1, 5>::new("ñandú".into()).is_ok());
        assert!(Text::<1, 5>::new("ñandús".into()).is_err());
    }

    #[test]
    fn control_characters_and_nul_are_refused_newlines_kept() {
        assert_eq!(
            refused("{\"title\":\"a\\u0000\"}"),
            ("invalid_field", "title".into())
        );
        assert_eq!(
            refused("{\"title\":\"a\\u001b\"}"),
            ("invalid_field", "title".into())
        );
        assert!(Text::<1, 5>::new("a\nb\tc".into()).is_ok());
    }

    #[test]
    fn debug_output_hides_the_text() {
        let text = Text::<0, 50>::new("ana@example.com".into()).unwrap();
        assert_eq!(format!("{text:?}"), "Text(15 chars)");
    }

    #[test]
    fn numbers_are_whole_and_in_range() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Days {
            days: Number<1, 365>,
        }
        let refused = |body: &str| parse_json::<Days>(body.as_bytes()).unwrap_err();
        assert_eq!(
            parse_json::<Days>(br#"{"days":365}"#).unwrap().days.get(),
            365
        );
        for body in [
            r#"{"days":0}"#,
            r#"{"days":366}"#,
            r#"{"days":1.5}"#,
            r#"{"days":"7"}"#,
            r#"{"days":-1}"#,
        ] {
            let error = refused(body);
            assert_eq!(
                (error.code(), error.field()),
                ("invalid_field", "days"),
                "{body}"
            );
        }
    }

    #[test]
    fn uuids_are_checked_and_normalised() {
        assert!(Uuid::parse("a0000000-0000-4000-8000-00000000000a").is_some());
        assert!(Uuid::parse("a0000000-0000-4000-8000-00000000000").is_none());
        assert!(Uuid::parse("a0000000x0000-4000-8000-00000000000a").is_none());
        assert!(Uuid::parse("g0000000-0000-4000-8000-00000000000a").is_none());
    }
}
