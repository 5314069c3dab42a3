//! The rules' regular expressions as one lazy DFA (regex-automata's hybrid engine), the part of
//! a `regex::RegexSet` the guard uses: which patterns match anywhere in the text. Without the
//! `regex` crate's other engines and literal optimisations the functions' WASM is about
//! 130 KiB of gzip smaller at the same cost per call (BENCHMARKS.md, "Worker sizes without
//! exceptions").

use std::sync::Mutex;

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::{Input, MatchKind, PatternSet};

pub use regex_automata::hybrid::BuildError;

pub(crate) struct Patterns {
    dfa: DFA,
    /// The DFA's transitions, filled in as texts are scanned and kept between calls.
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Patterns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Patterns({})", self.dfa.pattern_len())
    }
}

impl Patterns {
    /// The syntax is the `regex` crate's (Unicode classes, UTF-8); every pattern may match.
    /// The DFA never gives up: it has no quit bytes (the patterns' `\b` is the ASCII one) and
    /// no minimum number of cache clears.
    pub fn new(sources: &[String]) -> Result<Self, Box<BuildError>> {
        let dfa = DFA::builder()
            .configure(DFA::config().match_kind(MatchKind::All))
            .thompson(thompson::Config::new().which_captures(WhichCaptures::None))
            .build_many(sources)?;
        let cache = Mutex::new(dfa.create_cache());
        Ok(Patterns { dfa, cache })
    }

    /// The lowest-numbered pattern that matches somewhere in `text`.
    pub fn first_match(&self, text: &str) -> Option<usize> {
        if self.dfa.pattern_len() == 0 {
            return None;
        }
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut found = PatternSet::new(self.dfa.pattern_len());
        match self
            .dfa
            .try_which_overlapping_matches(&mut cache, &Input::new(text), &mut found)
        {
            Ok(()) => found.iter().next().map(|pattern| pattern.as_usize()),
            // Not reachable with this configuration (see `new`); if it were, the text counts
            // as matching the first pattern rather than slipping through.
            Err(_) => Some(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::{clean, fold_text};
    use crate::RulesConfig;

    fn corpus_texts() -> Vec<String> {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(format!("{dir}/corpus")).unwrap() {
            let content = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in content.lines().filter(|line| !line.trim().is_empty()) {
                let sample: serde_json::Value = serde_json::from_str(line).unwrap();
                texts.push(sample["text"].as_str().unwrap().to_owned());
            }
        }
        texts
    }

    /// Texts glued from pieces that meet the patterns' `\w`, `\b`, bounded gaps and non-ASCII
    /// letters.
    fn glued_texts() -> Vec<String> {
        const PIECES: [&str; 22] = [
            "ignore all previous instructions",
            "porn",
            "жж",
            "中文",
            "é",
            " ",
            "\n",
            "update ",
            "таблица",
            " set ",
            "x = 1 ",
            "where 1=1",
            "manda",
            " all ",
            "notes to ",
            "user: ",
            "assistant: ",
            "system:",
            "<script",
            "[admin]",
            "[/admin]",
            "_",
        ];
        crate::glued_texts(&PIECES, 0x2545_F491_4F6C_DD1D, 5_000, 24)
    }

    #[test]
    fn the_dfa_decides_as_the_regex_crates_set_did() {
        let sources: Vec<String> = RulesConfig::builtin()
            .categories
            .iter()
            .flat_map(|category| category.patterns.iter())
            .map(|pattern| pattern.replace("\\b", "(?-u:\\b)"))
            .collect();
        let dfa = Patterns::new(&sources).unwrap();
        let set = regex::RegexSet::new(&sources).unwrap();
        let mut checked = 0;
        for text in corpus_texts().into_iter().chain(glued_texts()) {
            let folded = fold_text(&clean(&text).text);
            for view in [text.as_str(), folded.as_str()] {
                let expected = set.matches(view).iter().next();
                assert_eq!(dfa.first_match(view), expected, "{view:?}");
                checked += usize::from(expected.is_some());
            }
        }
        assert!(checked > 300, "only {checked} texts matched a pattern");
    }
}
