//! Inside workerd the guard's Unicode forms come from the JavaScript engine (workers/input-guard's
//! `unicode_forms.rs`: `normalize("NFKC")`, `normalize("NFD")` without `\p{M}`, runs of
//! `\p{M}`); natively from `unicode-normalization`. This runs the same JavaScript calls in Node
//! (V8 with ICU, as workerd) and checks they agree with the native forms on every corpus text
//! and on every character a text can hold, so the guard decides alike in both.
// Shared with the corpus test; this one reads only the texts.
#[allow(dead_code)]
mod support;

use std::collections::HashSet;
use std::io::Write;
use std::process::{Command, Stdio};

use input_guard::{NativeForms, UnicodeForms};
use serde_json::{json, Value};
use support::corpus::load;

/// The guard worker's calls, written in JavaScript.
const ENGINE_FORMS: &str = r#"
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const longestMarkRun = (text) =>
  Math.max(...text.replace(/\P{M}/gu, " ").split(" ").map((run) => [...run].length));
process.stdout.write(JSON.stringify({
  nfkc: input.texts.map((text) => text.normalize("NFKC")),
  runs: input.texts.map((text) => longestMarkRun(text.normalize("NFKC"))),
  bases: input.chars.map((c) => c.normalize("NFD").replace(/\p{M}/gu, "")),
  marks: input.chars.map((c) => longestMarkRun(c)),
  unassigned: input.chars.map((c) => /\p{Cn}/u.test(c)),
}));
"#;

fn engine_forms(texts: &[String], chars: &[char]) -> Value {
    let mut node = Command::new("node")
        .args(["-e", ENGINE_FORMS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (ci/setup installs it)");
    let input = json!({ "texts": texts, "chars": chars }).to_string();
    node.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_engines_forms_agree_with_the_native_ones() {
    let dir = format!("{}/corpus", std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|entry| load(entry.unwrap().file_name().to_str().unwrap()))
        .map(|sample| sample.text)
        .collect();
    // Marks stacked and mixed, beside the corpus.
    texts.push("Z\u{0336}\u{0337}\u{0338}a\u{0301}\u{0327} e\u{20DD} ﬁ ① Ｉ ㎏".to_owned());
    // Every character, and its lower case (the guard decomposes lower-cased characters).
    let chars: Vec<char> = (0..=char::MAX as u32).filter_map(char::from_u32).collect();
    let engine = engine_forms(&texts, &chars);
    let native = NativeForms;
    let mut differences = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let nfkc = native.nfkc(text);
        if engine["nfkc"][i] != nfkc.as_str() {
            differences.push(format!("NFKC of {text:?}"));
        }
        if engine["runs"][i] != native.longest_mark_run(&nfkc) {
            differences.push(format!("mark run of {text:?}"));
        }
    }
    // Characters the engine's Unicode version has not assigned yet (the native tables may be
    // newer) are the only ones allowed to differ, and none of them is in the corpus.
    let in_corpus: HashSet<char> = texts
        .iter()
        .flat_map(|text| {
            format!("{text}{}", text.to_lowercase())
                .chars()
                .collect::<Vec<_>>()
        })
        .collect();
    let mut newer = 0;
    for (i, c) in chars.iter().enumerate() {
        let mut base = String::new();
        native.push_base(*c, &mut base);
        let agrees = engine["marks"][i] == native.longest_mark_run(&c.to_string())
            && engine["bases"][i] == base.as_str();
        if agrees {
            continue;
        }
        if engine["unassigned"][i] == true && !in_corpus.contains(c) {
            newer += 1;
        } else {
            differences.push(format!(
                "U+{:04X}: {:?} / {base:?}",
                *c as u32, engine["bases"][i]
            ));
        }
    }
    // 2026-12-01: 37 marks that Node 20.20's ICU does not know yet.
    assert!(newer < 100, "{newer} characters differ");
    assert!(
        differences.is_empty(),
        "{} differences: {:?}",
        differences.len(),
        &differences[..differences.len().min(20)]
    );
}
