//! The labelled corpus (`corpus/*.jsonl`) and the rates the guard reaches on it; shared by the
//! corpus test and the `corpus_rates` example.
use input_guard::{InputGuard, Verdict};

pub struct Sample {
    pub lang: String,
    /// For attacks, the category the sample belongs to; for benign samples, its kind.
    pub category: String,
    pub text: String,
}

pub fn load(file: &str) -> Vec<Sample> {
    // The run-time value, not env!(): clones share one target folder (ci/lib.sh), and a reused
    // build would carry another clone's path.
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let path = format!("{crate_dir}/corpus/{file}");
    let content = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    content
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{path}: {e}: {line}"));
            let field = |name: &str| {
                value[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("{path}: no {name}: {line}"))
                    .to_string()
            };
            Sample {
                lang: field("lang"),
                category: field("category"),
                text: field("text"),
            }
        })
        .collect()
}

pub struct Outcome<'a> {
    pub sample: &'a Sample,
    /// The blocking category's code, if blocked.
    pub blocked_as: Option<String>,
    /// Which of its rules matched, and in which view.
    pub rule: String,
}

pub fn run<'a>(guard: &InputGuard, samples: &'a [Sample]) -> Vec<Outcome<'a>> {
    samples
        .iter()
        .map(|sample| match guard.inspect(&sample.text) {
            Verdict::Allowed => Outcome {
                sample,
                blocked_as: None,
                rule: String::new(),
            },
            Verdict::Blocked(block) => Outcome {
                sample,
                rule: format!("{} in {}", block.rule, block.view.as_str()),
                blocked_as: Some(block.code),
            },
        })
        .collect()
}

/// Share of outcomes that were blocked, in percent.
pub fn blocked_percent(outcomes: &[Outcome]) -> f64 {
    let blocked = outcomes.iter().filter(|o| o.blocked_as.is_some()).count();
    100.0 * blocked as f64 / outcomes.len().max(1) as f64
}
