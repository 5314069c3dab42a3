//! Reports the guard's detection and false-positive rates on the corpus, per file, category
//! and language: `cargo run -p input-guard --example corpus_rates [-- --show]` (`--show` lists
//! every miss and every false positive of the tuning files only: the held-out sets report rates,
//! never their misses, so they cannot be tuned on by accident).
#[path = "../tests/support/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;

use corpus::{blocked_percent, load, run, Outcome};
use input_guard::InputGuard;

fn breakdown(title: &str, outcomes: &[Outcome], key: impl Fn(&Outcome) -> String) {
    let mut groups: BTreeMap<String, Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes {
        groups.entry(key(outcome)).or_default().push(outcome);
    }
    let cells: Vec<String> = groups
        .iter()
        .map(|(name, group)| {
            let blocked = group.iter().filter(|o| o.blocked_as.is_some()).count();
            format!("{name} {blocked}/{}", group.len())
        })
        .collect();
    println!("    {title}: {}", cells.join(", "));
}

fn main() {
    let show = std::env::args().any(|a| a == "--show");
    let guard = InputGuard::builtin();
    for (set, attacks_file, benign_file) in [
        ("tuning", "attacks.jsonl", "benign.jsonl"),
        ("held-out", "holdout_attacks.jsonl", "holdout_benign.jsonl"),
        (
            "held-out 2",
            "holdout2_attacks.jsonl",
            "holdout2_benign.jsonl",
        ),
        (
            "held-out 3",
            "holdout3_attacks.jsonl",
            "holdout3_benign.jsonl",
        ),
    ] {
        let attacks = load(attacks_file);
        let benign = load(benign_file);
        let attack_outcomes = run(guard, &attacks);
        let benign_outcomes = run(guard, &benign);
        println!(
            "{set}: attacks blocked {:.1} % of {}, benign blocked {:.1} % of {}",
            blocked_percent(&attack_outcomes),
            attacks.len(),
            blocked_percent(&benign_outcomes),
            benign.len()
        );
        breakdown("attacks by category", &attack_outcomes, |o| {
            o.sample.category.clone()
        });
        breakdown("attacks by language", &attack_outcomes, |o| {
            o.sample.lang.clone()
        });
        breakdown("benign by language", &benign_outcomes, |o| {
            o.sample.lang.clone()
        });
        let same_category = attack_outcomes
            .iter()
            .filter(|o| o.blocked_as.as_deref() == Some(o.sample.category.as_str()))
            .count();
        println!(
            "    blocked under the labelled category: {same_category}/{}",
            attacks.len()
        );
        if show && set == "tuning" {
            for o in attack_outcomes.iter().filter(|o| o.blocked_as.is_none()) {
                println!(
                    "    MISSED [{} {}] {:?}",
                    o.sample.lang, o.sample.category, o.sample.text
                );
            }
            for o in benign_outcomes.iter().filter(|o| o.blocked_as.is_some()) {
                println!(
                    "    FALSE POSITIVE [{} {:?} {}] {:?}",
                    o.sample.lang, o.blocked_as, o.rule, o.sample.text
                );
            }
        }
    }
}
