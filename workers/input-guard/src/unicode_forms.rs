//! The input guard's Unicode forms from the engine's own ICU (`String.prototype.normalize`,
//! `\p{M}`), so the guard worker carries no normalisation tables in its WASM (input_guard's
//! `forms.rs` says why; its `tests/unicode_forms.rs` checks these JavaScript calls agree with
//! the native tables on the corpus).

use std::cell::RefCell;
use std::collections::HashMap;

use input_guard::UnicodeForms;
use worker::js_sys::{JsString, RegExp};

/// Decompositions remembered per isolate: a text repeats few distinct non-ASCII characters, and
/// each lookup otherwise crosses into JavaScript. Emptied when full.
const MAX_REMEMBERED: usize = 4096;

thread_local! {
    static MARK: RegExp = RegExp::new(r"\p{M}", "gu");
    static NOT_MARK: RegExp = RegExp::new(r"\P{M}", "gu");
    static BASES: RefCell<HashMap<char, String>> = RefCell::new(HashMap::new());
}

pub(crate) struct EngineForms;

impl UnicodeForms for EngineForms {
    fn nfkc(&self, text: &str) -> String {
        JsString::from(text).normalize("NFKC").into()
    }

    fn longest_mark_run(&self, text: &str) -> usize {
        // Every other character becomes a space: what is left between spaces are the runs.
        let marks: String = NOT_MARK
            .with(|not_mark| JsString::from(text).replace_by_pattern(not_mark, " "))
            .into();
        marks
            .split(' ')
            .map(|run| run.chars().count())
            .max()
            .unwrap_or(0)
    }

    fn push_base(&self, c: char, out: &mut String) {
        let remembered = BASES.with(|bases| bases.borrow().get(&c).map(|base| out.push_str(base)));
        if remembered.is_some() {
            return;
        }
        let base: String = MARK
            .with(|mark| {
                JsString::from(c)
                    .normalize("NFD")
                    .replace_by_pattern(mark, "")
            })
            .into();
        out.push_str(&base);
        BASES.with(|bases| {
            let mut bases = bases.borrow_mut();
            if bases.len() >= MAX_REMEMBERED {
                bases.clear();
            }
            bases.insert(c, base);
        });
    }
}
