//! Reads the bundled `rules.toml` at build time into `$OUT_DIR/builtin_rules.rs`, the body of
//! `RulesConfig::builtin`: the functions then carry the rules as static strings and no TOML
//! parser (about 65 KiB of gzip per worker, BENCHMARKS.md "Worker sizes: a smaller input guard").
//! `rules.toml` stays the one source; a test checks the result equals `from_toml` of it.

use std::fmt::Write;

#[allow(dead_code)]
#[path = "src/config.rs"]
mod config;

use config::RulesConfig;

fn main() {
    println!("cargo:rerun-if-changed=rules.toml");
    println!("cargo:rerun-if-changed=src/config.rs");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let text =
        std::fs::read_to_string(format!("{dir}/rules.toml")).expect("rules.toml is readable");
    let rules: RulesConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("rules.toml: {e}"));

    // Each set's terms in one string, one term a line (fewer pointers in the WASM data).
    let mut sets = String::new();
    for (name, terms) in &rules.sets {
        for term in terms {
            assert!(
                !term.is_empty() && !term.contains(['\n', '\r']),
                "set {name}: a term is empty or spans lines: {term:?}"
            );
        }
        writeln!(sets, "        ({name:?}, {:?}),", terms.join("\n")).unwrap();
    }
    let mut categories = String::new();
    for category in &rules.categories {
        let mut near = String::new();
        for rule in &category.near {
            writeln!(
                near,
                "                (&{:?}, {:?}, {:?}, &{:?}),",
                rule.sets, rule.gap, rule.within, rule.unless
            )
            .unwrap();
        }
        writeln!(
            categories,
            "        ({:?}, {:?}, Kind::{:?}, &[\n{near}            ], &{:?}),",
            category.code, category.name, category.kind, category.patterns
        )
        .unwrap();
    }
    let code = format!(
        r#"{{
    type Near = (&'static [&'static str], Option<usize>, Option<usize>, &'static [&'static str]);
    type Category = (&'static str, &'static str, Kind, &'static [Near], &'static [&'static str]);
    const SETS: &[(&str, &str)] = &[
{sets}    ];
    const CATEGORIES: &[Category] = &[
{categories}    ];
    let owned = |strings: &[&str]| strings.iter().map(|s| s.to_string()).collect();
    RulesConfig {{
        sets: SETS
            .iter()
            .map(|(name, terms)| (name.to_string(), terms.lines().map(str::to_string).collect()))
            .collect(),
        categories: CATEGORIES
            .iter()
            .map(|&(code, name, kind, near, patterns)| CategoryConfig {{
                code: code.to_string(),
                name: name.to_string(),
                kind,
                near: near
                    .iter()
                    .map(|&(sets, gap, within, unless)| NearConfig {{
                        sets: owned(sets),
                        gap,
                        within,
                        unless: owned(unless),
                    }})
                    .collect(),
                patterns: owned(patterns),
            }})
            .collect(),
    }}
}}
"#
    );
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(format!("{out}/builtin_rules.rs"), code).expect("OUT_DIR is writable");
}
