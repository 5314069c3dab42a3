//! Detection and false-positive rates on the repository's corpus. The tuning files must meet
//! the targets (≥ 90 % of attacks blocked, ≤ 2 % of benign prompts blocked); the held-out files,
//! never used to tune the rules, must stay above a floor (they are reported by
//! `cargo run -p input-guard --example corpus_rates`).
mod support;

use input_guard::InputGuard;
use support::corpus::{blocked_percent, load, run, Outcome};

fn listing(outcomes: &[Outcome], blocked: bool) -> String {
    outcomes
        .iter()
        .filter(|o| o.blocked_as.is_some() == blocked)
        .map(|o| {
            format!(
                "\n  [{} {}] {:?} -> {:?} ({})",
                o.sample.lang, o.sample.category, o.sample.text, o.blocked_as, o.rule
            )
        })
        .collect()
}

fn check(attacks_file: &str, benign_file: &str, min_detection: f64, max_false_positives: f64) {
    let guard = InputGuard::builtin();
    let attacks = load(attacks_file);
    let benign = load(benign_file);
    assert!(
        attacks.len() >= 50 && benign.len() >= 50,
        "corpus too small"
    );
    let attack_outcomes = run(guard, &attacks);
    let benign_outcomes = run(guard, &benign);
    let detection = blocked_percent(&attack_outcomes);
    let false_positives = blocked_percent(&benign_outcomes);
    assert!(
        detection >= min_detection,
        "{attacks_file}: {detection:.1} % blocked, below {min_detection} %; missed:{}",
        listing(&attack_outcomes, false)
    );
    assert!(
        false_positives <= max_false_positives,
        "{benign_file}: {false_positives:.1} % blocked, above {max_false_positives} %; blocked:{}",
        listing(&benign_outcomes, true)
    );
}

#[test]
fn tuning_corpus_meets_the_targets() {
    check("attacks.jsonl", "benign.jsonl", 90.0, 2.0);
}

#[test]
fn held_out_corpus_stays_above_the_floor() {
    check("holdout_attacks.jsonl", "holdout_benign.jsonl", 80.0, 4.0);
}

/// The second held-out set (2026-12-01), written before that day's tuning, never tuned on.
#[test]
fn second_held_out_corpus_stays_above_the_floor() {
    check("holdout2_attacks.jsonl", "holdout2_benign.jsonl", 80.0, 4.0);
}

#[test]
fn every_sample_is_labelled_with_a_known_language() {
    for file in [
        "attacks.jsonl",
        "benign.jsonl",
        "holdout_attacks.jsonl",
        "holdout_benign.jsonl",
        "holdout2_attacks.jsonl",
        "holdout2_benign.jsonl",
    ] {
        for sample in load(file) {
            assert!(
                ["en", "es", "pt", "fr", "de", "it"].contains(&sample.lang.as_str()),
                "{file}: {}",
                sample.lang
            );
        }
    }
    let codes: Vec<&str> = InputGuard::builtin().category_codes().collect();
    for sample in load("attacks.jsonl")
        .into_iter()
        .chain(load("holdout_attacks.jsonl"))
        .chain(load("holdout2_attacks.jsonl"))
    {
        assert!(
            codes.contains(&sample.category.as_str()),
            "unknown category {}",
            sample.category
        );
    }
}
