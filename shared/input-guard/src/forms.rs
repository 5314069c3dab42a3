//! The Unicode forms the guard needs (NFKC, canonical decomposition, combining marks) behind a
//! trait. Natively they come from `unicode-normalization`'s tables; inside workerd the guard
//! worker registers the engine's own (ICU: `String.prototype.normalize`, `\p{M}`), so its WASM
//! carries no normalisation tables (about 55 KiB of gzip, BENCHMARKS.md "Worker sizes: a smaller
//! input guard"). `tests/unicode_forms.rs` checks that both agree on the corpus.

use std::sync::OnceLock;

/// What normalisation the guard asks for. Implementations must follow the Unicode standard's
/// definitions exactly: the guard's verdicts depend on them.
pub trait UnicodeForms: Send + Sync {
    /// NFKC of `text`.
    fn nfkc(&self, text: &str) -> String;
    /// The longest run of combining marks (General_Category Mark) in `text`, in characters.
    fn longest_mark_run(&self, text: &str) -> usize;
    /// Appends `c`'s canonical decomposition (NFD) without its combining marks to `out`.
    fn push_base(&self, c: char, out: &mut String);
}

static REGISTERED: OnceLock<&'static dyn UnicodeForms> = OnceLock::new();

/// Sets the forms every guard of this process uses, once (later calls change nothing). Inside
/// workerd the guard worker does this before the first inspection; natively the default is
/// [`NativeForms`].
pub fn register_unicode_forms(forms: &'static dyn UnicodeForms) {
    let _ = REGISTERED.set(forms);
}

pub(crate) fn forms() -> &'static dyn UnicodeForms {
    #[cfg(not(target_arch = "wasm32"))]
    return *REGISTERED.get_or_init(|| &NativeForms);
    #[cfg(target_arch = "wasm32")]
    return *REGISTERED
        .get()
        .expect("input_guard::register_unicode_forms was called (the guard worker does)");
}

/// `unicode-normalization`'s tables: the forms of native builds and tests.
#[cfg(not(target_arch = "wasm32"))]
pub struct NativeForms;

#[cfg(not(target_arch = "wasm32"))]
impl UnicodeForms for NativeForms {
    fn nfkc(&self, text: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        text.nfkc().collect()
    }

    fn longest_mark_run(&self, text: &str) -> usize {
        use unicode_normalization::char::is_combining_mark;
        let (mut longest, mut run) = (0, 0);
        for c in text.chars() {
            run = if is_combining_mark(c) { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        longest
    }

    fn push_base(&self, c: char, out: &mut String) {
        use unicode_normalization::char::{decompose_canonical, is_combining_mark};
        decompose_canonical(c, |part| {
            if !is_combining_mark(part) {
                out.push(part);
            }
        });
    }
}
