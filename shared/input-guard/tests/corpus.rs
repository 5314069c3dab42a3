//! Detection and false-positive rates on the repository's corpus. Each file pair has a floor set
//! a little under the rate it measured on 2026-12-01 (after the guard3 tuning), so a change that
//! loses detection or adds false positives fails here; the aim is ≥ 90 % of attacks blocked and
//! ≤ 2 % of benign prompts blocked on every set. The held-out files were never used to tune the
//! rules (rates: `cargo run -p input-guard --example corpus_rates`).
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

/// Measured 99.8 % / 0.2 % (479 attacks, 409 benign).
#[test]
fn tuning_corpus_meets_the_targets() {
    check("attacks.jsonl", "benign.jsonl", 99.0, 0.5);
}

/// Measured 90.2 % / 1.3 % (82 attacks, 75 benign).
#[test]
fn held_out_corpus_stays_above_the_floor() {
    check("holdout_attacks.jsonl", "holdout_benign.jsonl", 89.0, 2.0);
}

/// The second held-out set (2026-12-01), written before that day's tuning, never tuned on.
/// Measured 94.8 % / 0.0 % (77 attacks, 70 benign).
#[test]
fn second_held_out_corpus_stays_above_the_floor() {
    check("holdout2_attacks.jsonl", "holdout2_benign.jsonl", 93.0, 1.0);
}

/// The third held-out set (2026-12-01, guard3), committed before that branch's tuning, never
/// tuned on. Measured 96.6 % / 1.4 % (87 attacks, 71 benign).
#[test]
fn third_held_out_corpus_stays_above_the_floor() {
    check("holdout3_attacks.jsonl", "holdout3_benign.jsonl", 95.0, 2.0);
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
        "holdout3_attacks.jsonl",
        "holdout3_benign.jsonl",
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
        .chain(load("holdout3_attacks.jsonl"))
    {
        assert!(
            codes.contains(&sample.category.as_str()),
            "unknown category {}",
            sample.category
        );
    }
}
