//! The rules file's shape. Shared with `build.rs` (through `#[path]`), which reads the bundled
//! `rules.toml` into it at build time; `RulesConfig::from_toml` reads a caller's own at run time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole rules file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Named sets of terms. A term is one or more words; a word ending in `*` matches any word
    /// it begins. Terms are folded like the text (case, accents, look-alikes, `l` → `i`).
    #[serde(default)]
    pub sets: BTreeMap<String, Vec<String>>,
    /// In priority order: when several match, the first one listed is reported.
    #[serde(rename = "category")]
    pub categories: Vec<CategoryConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    /// Stable code, written to logs and answered to clients.
    pub code: String,
    pub name: String,
    pub kind: Kind,
    #[serde(default)]
    pub near: Vec<NearConfig>,
    /// Regular expressions over the folded text (lower case, no accents, punctuation kept,
    /// spaces collapsed).
    #[serde(default)]
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Attempts to change what the model does (override, extraction, jailbreak, …).
    Injection,
    /// Payloads aimed at whatever renders or executes the output (script, SQL, shell).
    Payload,
    /// Content the platform refuses whatever the phrasing.
    Deny,
    /// Size, depth and character limits (built in, not configurable as rules).
    Limit,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Injection => "injection",
            Kind::Payload => "payload",
            Kind::Deny => "deny",
            Kind::Limit => "limit",
        }
    }
}

/// Words from each listed set, close together: `gap` = at most that many words between
/// consecutive sets, in the order listed; `within` = all inside a window of that many words, in
/// any order. The set name `NAME` matches a capitalised word that does not start a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearConfig {
    pub sets: Vec<String>,
    pub gap: Option<usize>,
    pub within: Option<usize>,
    /// Sets whose words anywhere in the text turn this rule off (e.g. "education" for a rule
    /// that would otherwise catch a sex-education question).
    #[serde(default)]
    pub unless: Vec<String>,
}
