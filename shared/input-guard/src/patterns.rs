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
    pub fn new(sources: &[String]) -> Result<Self, BuildError> {
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
