//! What the matcher sees: invisible characters removed, NFKC, then folded (lower case, no
//! diacritics, look-alike letters mapped to Latin) into a punctuation-keeping view for patterns
//! and a word view (leetspeak and `l`/`1`/`i` folded) for term rules.

use crate::forms::forms;

/// Text with invisible characters removed and NFKC applied; case is kept (base64 needs it).
pub(crate) struct Cleaned {
    pub text: String,
    /// Invisible characters used the way obfuscation uses them (inside words, bidi overrides,
    /// controls, smuggled tags); emoji joiners and soft hyphens are removed but not counted.
    pub hidden: usize,
    /// Longest run of combining marks on one base character ("Zalgo" text).
    pub longest_mark_run: usize,
    /// ASCII hidden in Unicode tag characters (U+E0020–U+E007E).
    pub tags: String,
    /// Bytes hidden in runs of variation selectors (one selector per byte).
    pub selector_bytes: Vec<u8>,
}

/// Runs of selectors shorter than this are emoji presentation, not smuggled bytes.
const SELECTOR_RUN_MIN: usize = 4;
const WAVING_BLACK_FLAG: char = '\u{1F3F4}';

pub(crate) fn clean(raw: &str) -> Cleaned {
    let mut kept = String::with_capacity(raw.len());
    let mut hidden = 0;
    let mut tags = String::new();
    let mut selector_bytes = Vec::new();
    let mut selector_run = Vec::new();
    let mut in_flag = false;
    for c in raw.chars() {
        // Most text is printable ASCII: nothing below applies to it.
        if (' '..='~').contains(&c) && selector_run.is_empty() {
            kept.push(c);
            in_flag = false;
            continue;
        }
        if let Some(byte) = selector_byte(c) {
            selector_run.push(byte);
            continue;
        }
        if selector_run.len() >= SELECTOR_RUN_MIN {
            hidden += selector_run.len();
            selector_bytes.append(&mut selector_run);
        }
        selector_run.clear();
        if let Some(ascii) = tag_char(c) {
            // Subdivision flags (England, Scotland, Wales) spell their region in tags.
            if !in_flag {
                hidden += 1;
                tags.push(ascii);
            }
            continue;
        }
        in_flag = c == WAVING_BLACK_FLAG;
        let previous_is_word = kept.chars().next_back().is_some_and(char::is_alphanumeric);
        match invisible(c) {
            Some(Invisible::Joiner) => hidden += usize::from(previous_is_word),
            Some(Invisible::Direction) => hidden += 1,
            Some(Invisible::Quiet) => {}
            None if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {
                hidden += 1;
                kept.push(' ');
            }
            None => kept.push(c),
        }
    }
    if selector_run.len() >= SELECTOR_RUN_MIN {
        hidden += selector_run.len();
        selector_bytes.append(&mut selector_run);
    }
    // ASCII is its own NFKC form and carries no marks.
    let (text, longest_mark_run) = if kept.is_ascii() {
        (kept, 0)
    } else {
        let text = forms().nfkc(&kept);
        let longest = forms().longest_mark_run(&text);
        (text, longest)
    };
    Cleaned {
        text,
        hidden,
        longest_mark_run,
        tags,
        selector_bytes,
    }
}

enum Invisible {
    /// Zero-width characters: counted when they split a word.
    Joiner,
    /// Bidi embeddings, overrides and isolates (Trojan Source): always counted.
    Direction,
    /// Removed but innocent in ordinary text (soft hyphen, LRM/RLM, fillers).
    Quiet,
}

fn invisible(c: char) -> Option<Invisible> {
    match c {
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' => {
            Some(Invisible::Joiner)
        }
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{206A}'..='\u{206F}' => {
            Some(Invisible::Direction)
        }
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180D}'
        | '\u{180F}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{3164}'
        | '\u{FFA0}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' => Some(Invisible::Quiet),
        _ => None,
    }
}

fn selector_byte(c: char) -> Option<u8> {
    match c {
        '\u{FE00}'..='\u{FE0F}' => u8::try_from(c as u32 - 0xFE00).ok(),
        '\u{E0100}'..='\u{E01EF}' => u8::try_from(c as u32 - 0xE0100 + 16).ok(),
        _ => None,
    }
}

fn tag_char(c: char) -> Option<char> {
    match c {
        '\u{E0000}'..='\u{E007F}' => {
            let ascii =
                char::from_u32(c as u32 - 0xE0000).filter(|a| a.is_ascii_graphic() || *a == ' ');
            Some(ascii.unwrap_or(' '))
        }
        _ => None,
    }
}

/// Lower case, diacritics dropped, look-alikes mapped to the Latin letter they imitate.
pub(crate) fn fold_char(c: char, out: &mut String) {
    // No ASCII character has a diacritic or a look-alike entry.
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let start = out.len();
    for lower in c.to_lowercase() {
        forms().push_base(lower, out);
    }
    if out[start..].chars().any(|part| confusable(part).is_some()) {
        let parts = out.split_off(start);
        for part in parts.chars() {
            match confusable(part) {
                Some(latin) => out.push_str(latin),
                None => out.push(part),
            }
        }
    }
}

/// The folded view patterns run on: punctuation kept, spaces collapsed, newlines kept.
pub(crate) fn fold_text(text: &str) -> String {
    let mut folded = Vec::with_capacity(text.len());
    let push = |byte: u8, folded: &mut Vec<u8>| {
        let byte = if byte == b'\r' { b'\n' } else { byte };
        let blank = byte == b' ' || byte == b'\t';
        if !(blank && matches!(folded.last(), Some(b' ' | b'\n'))) {
            folded.push(if blank { b' ' } else { byte });
        }
    };
    let mut scratch = String::new();
    for c in text.chars() {
        if c.is_ascii() {
            push(c.to_ascii_lowercase() as u8, &mut folded);
            continue;
        }
        scratch.clear();
        fold_char(c, &mut scratch);
        scratch.bytes().for_each(|byte| push(byte, &mut folded));
    }
    // Only whole characters were pushed (ASCII bytes are never part of a longer one).
    String::from_utf8(folded).unwrap_or_default()
}

/// One word of the word view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    /// Written with a capital and not at a sentence start: probably a name.
    pub capital: bool,
    /// What separated it from the previous word: how many characters (saturating) and whether
    /// any was blank. Spelled-out words ("i g n o r e   a l l", "p-r-e-v-i-o-u-s") and split
    /// ones ("in-struc-tions") are re-joined from it.
    pub sep: Separator,
    /// Which of the first 64 letters were an `l` before the skeleton read it as `i`, so a
    /// re-spelled word can be shown to the patterns as written.
    pub ells: u64,
}

impl Word {
    /// The word with the skeleton's `l` → `i` undone (leetspeak stays read).
    pub fn unfolded(&self) -> String {
        self.text
            .chars()
            .enumerate()
            .map(|(i, c)| match self.ells.checked_shr(i as u32) {
                Some(bits) if bits & 1 == 1 => 'l',
                _ => c,
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Separator {
    pub chars: u8,
    pub blank: bool,
}

impl Separator {
    /// One punctuation character and no blank: the two words may be pieces of one.
    pub fn is_tight(self) -> bool {
        self.chars == 1 && !self.blank
    }
}

/// Splits into words (camelCase split too), folds each, then leetspeak and the `l`/`i` skeleton.
pub(crate) fn words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut capital = false;
    let mut sentence_start = true;
    let mut previous_lower = false;
    let mut sep = Separator::default();
    let mut scratch = String::new();
    for c in text.chars() {
        scratch.clear();
        fold_char(c, &mut scratch);
        let is_word_char = if c.is_ascii() {
            c.is_ascii_alphanumeric() || c == '@' || c == '$'
        } else {
            scratch
                .chars()
                .any(|f| f.is_alphanumeric() || f == '@' || f == '$')
        };
        let camel_break = c.is_uppercase() && previous_lower;
        if !is_word_char || camel_break {
            if !current.is_empty() {
                push_word(&mut words, &mut current, capital, sep);
                sentence_start = false;
                sep = Separator::default();
            }
            if matches!(c, '.' | '!' | '?' | '\n' | ':' | '¿' | '¡' | '"' | '“') {
                sentence_start = true;
            }
        }
        if is_word_char {
            if current.is_empty() {
                capital = c.is_uppercase() && !sentence_start;
            }
            current.push_str(&scratch);
        } else {
            sep.chars = sep.chars.saturating_add(1);
            sep.blank |= c.is_whitespace();
        }
        previous_lower = c.is_lowercase();
    }
    if !current.is_empty() {
        push_word(&mut words, &mut current, capital, sep);
    }
    words
}

fn push_word(words: &mut Vec<Word>, current: &mut String, capital: bool, sep: Separator) {
    let (text, ells) = skeleton_marked(current);
    current.clear();
    if !text.is_empty() {
        words.push(Word {
            text,
            capital,
            sep,
            ells,
        });
    }
}

/// Leetspeak is read only in words that mix letters with digits or symbols ("1gn0r3"), so
/// numbers stay numbers; `l` folds to `i` everywhere (as `1` does), terms get the same fold.
/// Also returns where (among the first 64 characters) an `l` became `i`.
fn skeleton_marked(word: &str) -> (String, u64) {
    let has_letter = word.chars().any(char::is_alphabetic);
    let leet = has_letter
        && word
            .chars()
            .any(|c| c.is_ascii_digit() || c == '@' || c == '$');
    let mut text = String::with_capacity(word.len());
    let mut ells = 0u64;
    let mut at = 0u32;
    for c in word.chars() {
        let read = match c {
            'l' => {
                ells |= 1u64.checked_shl(at).unwrap_or(0);
                'i'
            }
            '@' | '$' if !leet => continue,
            _ if leet => match c {
                '0' => 'o',
                '1' => 'i',
                '3' => 'e',
                '4' | '@' => 'a',
                '5' | '$' => 's',
                '7' => 't',
                '8' => 'b',
                '9' => 'g',
                other => other,
            },
            _ => c,
        };
        text.push(read);
        at = at.saturating_add(1);
    }
    (text, ells)
}

/// Look-alikes NFKC leaves alone (after lower-casing and dropping diacritics).
fn confusable(c: char) -> Option<&'static str> {
    Some(match c {
        // Cyrillic
        'а' => "a",
        'в' | 'ь' => "b",
        'г' => "r",
        'е' | 'ё' | 'є' => "e",
        'к' | 'қ' => "k",
        'м' => "m",
        'н' | 'һ' => "h",
        'о' => "o",
        'п' => "n",
        'р' => "p",
        'с' => "c",
        'т' => "t",
        'у' | 'ү' => "y",
        'х' | 'ҳ' => "x",
        'ѕ' => "s",
        'і' | 'ї' | 'ӏ' => "i",
        'ј' => "j",
        'ԁ' => "d",
        'ԛ' => "q",
        'ԝ' | 'ш' => "w",
        // Greek
        'α' => "a",
        'β' => "b",
        'γ' => "y",
        'ε' => "e",
        'η' | 'π' => "n",
        'ι' => "i",
        'κ' => "k",
        'μ' | 'υ' => "u",
        'ν' => "v",
        'ο' | 'σ' => "o",
        'ρ' => "p",
        'ς' | 'ϲ' => "c",
        'τ' => "t",
        'χ' => "x",
        'ω' => "w",
        'ϳ' => "j",
        // Armenian
        'օ' => "o",
        'ս' => "u",
        'ց' => "g",
        'հ' => "h",
        'ո' => "n",
        'զ' => "q",
        // Latin letters without a decomposition, and small capitals
        'ı' | 'ɩ' | 'ɪ' | 'ɨ' => "i",
        'ȷ' | 'ᴊ' => "j",
        'ł' | 'ʟ' => "l",
        'ø' | 'ᴏ' => "o",
        'đ' | 'ð' | 'ᴅ' => "d",
        'ħ' | 'ʜ' => "h",
        'ŧ' | 'ᴛ' => "t",
        'ƀ' | 'ʙ' => "b",
        'ɑ' | 'ᴀ' => "a",
        'ʋ' | 'ᴜ' => "u",
        'ʏ' => "y",
        'ɡ' | 'ɢ' => "g",
        'ᴄ' => "c",
        'ᴇ' => "e",
        'ғ' => "f",
        'ᴋ' => "k",
        'ᴍ' => "m",
        'ɴ' => "n",
        'ᴘ' => "p",
        'ʀ' => "r",
        'ꜱ' => "s",
        'ᴠ' => "v",
        'ᴡ' => "w",
        'ᴢ' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        // Punctuation that imitates markup and quoting
        '‹' | '〈' | '⟨' | '˂' | '❮' => "<",
        '›' | '〉' | '⟩' | '˃' | '❯' => ">",
        '‘' | '’' | '‚' | '′' | 'ʼ' | '´' => "'",
        '“' | '”' | '„' | '″' | '«' | '»' => "\"",
        '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' => "-",
        '⁄' | '∕' => "/",
        '∶' | 'ː' => ":",
        // Regional indicator symbols spell letters as flags
        '\u{1F1E6}'..='\u{1F1FF}' => {
            const LETTERS: [&str; 26] = [
                "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
                "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
            ];
            LETTERS[(c as u32 - 0x1F1E6) as usize]
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_texts(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn invisible_characters_are_removed_and_counted_inside_words() {
        let cleaned = clean("ig\u{200B}no\u{200D}re the\u{202E} rules \u{00AD}");
        assert_eq!(cleaned.text, "ignore the rules ");
        assert_eq!(cleaned.hidden, 3);
        let emoji = clean("family 👨\u{200D}👩\u{200D}👧 ❤\u{FE0F}");
        assert_eq!(emoji.hidden, 0);
    }

    #[test]
    fn tags_and_selector_runs_are_recovered() {
        let smuggled: String = "hi"
            .chars()
            .chain(
                "ignore"
                    .chars()
                    .map(|c| char::from_u32(0xE0000 + c as u32).unwrap()),
            )
            .collect();
        assert_eq!(clean(&smuggled).tags, "ignore");
        let selectors: String = std::iter::once('x')
            .chain(
                b"hello"
                    .iter()
                    .map(|b| char::from_u32(0xE0100 + *b as u32 - 16).unwrap()),
            )
            .collect();
        assert_eq!(clean(&selectors).selector_bytes, b"hello");
        let scotland = "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(clean(scotland).hidden, 0);
    }

    #[test]
    fn nfkc_and_confusables_fold_to_latin() {
        let cleaned = clean("ＩＧＮＯＲＥ 𝐩𝐫𝐞𝐯𝐢𝐨𝐮𝐬 іnѕtruсtіоnѕ ιnstructιons Instruções");
        assert_eq!(
            fold_text(&cleaned.text),
            "ignore previous instructions instructions instrucoes"
        );
    }

    #[test]
    fn words_fold_leetspeak_but_keep_numbers() {
        assert_eq!(
            word_texts("1gn0r3 a11 ru1es in 2024"),
            ["ignore", "aii", "ruies", "in", "2024"]
        );
        assert_eq!(word_texts("IgnorePrevious"), ["ignore", "previous"]);
    }

    #[test]
    fn capitals_mark_names_but_not_sentence_starts() {
        let found = words("Pretend to be Elon Musk. Then stop");
        let capitals: Vec<bool> = found.iter().map(|w| w.capital).collect();
        assert_eq!(capitals, [false, false, false, true, true, false, false]);
    }

    #[test]
    fn zalgo_marks_are_measured() {
        let zalgo = "h\u{0300}\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}i";
        assert_eq!(clean(zalgo).longest_mark_run, 6);
        assert_eq!(clean("ação").longest_mark_run, 0);
    }
}
