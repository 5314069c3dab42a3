//! What the `files` function accepts and what it stores, as policy without `worker`:
//!
//! - [`FileKind::recognise`]: the allowed kinds (PNG, JPEG, UTF-8 text), decided by the bytes
//!   (magic numbers, or valid UTF-8 for text), never by the name; the declared `Content-Type`
//!   must agree with them ([`Upload::check`]).
//! - [`Upload::processed`]: the copy kept after the original is purged: images with every
//!   metadata block removed (EXIF with its GPS position, XMP, IPTC, text chunks, comments) by
//!   walking their chunk/segment structure, text with the BOM, CR line ends and control
//!   characters removed. No decoder: the worker stays small and the cost is one pass over the
//!   bytes.
//! - [`FileName`]: the stored name, and the `Content-Disposition` a download answers with.

use edge_guard::Refusal;

mod images;

/// The largest file accepted (the body is refused with 413 past it, while still arriving).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The kinds of file the platform stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Png,
    Jpeg,
    Text,
}

const UNSUPPORTED: Refusal = Refusal::new(
    415,
    "unsupported_file_type",
    "only PNG, JPEG and UTF-8 plain text files are accepted",
);
const MISMATCH: Refusal = Refusal::new(
    415,
    "content_type_mismatch",
    "the Content-Type header does not match the file's bytes",
);
pub(crate) const MALFORMED: Refusal = Refusal::bad_request(
    "malformed_file",
    "the file's structure is damaged or incomplete",
);
const EMPTY: Refusal = Refusal::bad_request("empty_file", "the file is empty");

impl FileKind {
    /// The kind the bytes are, when it is one the platform stores.
    pub fn recognise(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(images::PNG_SIGNATURE) {
            Some(FileKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
            Some(FileKind::Text)
        } else {
            None
        }
    }

    /// The content type stored and answered for this kind.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Text => "text/plain; charset=utf-8",
        }
    }

    /// Whether a declared `Content-Type` (parameters aside; text may only say UTF-8) names this
    /// kind.
    fn declared_as(self, declared: &str) -> bool {
        let mut parts = declared.split(';').map(|p| p.trim().to_ascii_lowercase());
        let essence = parts.next().unwrap_or_default();
        let parameters: Vec<String> = parts.filter(|p| !p.is_empty()).collect();
        match self {
            FileKind::Png => essence == "image/png",
            FileKind::Jpeg => essence == "image/jpeg",
            FileKind::Text => {
                essence == "text/plain"
                    && parameters
                        .iter()
                        .all(|p| p.replace(' ', "") == "charset=utf-8")
            }
        }
    }
}

/// An accepted upload: its kind and the processed copy.
#[derive(Debug)]
pub struct Upload {
    pub kind: FileKind,
    pub processed: Vec<u8>,
}

impl Upload {
    /// Checks the bytes against the allowlist and the declared type, and makes the processed copy:
    /// 415 `unsupported_file_type` / `content_type_mismatch`, 400 `empty_file` / `malformed_file`.
    pub fn check(declared_type: Option<&str>, bytes: &[u8]) -> Result<Self, Refusal> {
        if bytes.is_empty() {
            return Err(EMPTY);
        }
        let kind = FileKind::recognise(bytes).ok_or(UNSUPPORTED)?;
        if !declared_type.is_some_and(|declared| kind.declared_as(declared)) {
            return Err(MISMATCH);
        }
        let processed = match kind {
            FileKind::Png => images::strip_png(bytes)?,
            FileKind::Jpeg => images::strip_jpeg(bytes)?,
            FileKind::Text => normalise_text(bytes),
        };
        if processed.is_empty() {
            return Err(EMPTY);
        }
        Ok(Self { kind, processed })
    }
}

/// UTF-8 text without a byte-order mark, with `\n` line ends and no control characters other
/// than tab and newline.
fn normalise_text(bytes: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .into_bytes()
}

/// A file's display name: 1–200 characters, no control characters, no path separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(name: Option<&str>) -> Result<Self, Refusal> {
        const INVALID: Refusal = Refusal::bad_request(
            "invalid_query",
            "`name` must be 1-200 characters without control characters, `/` or `\\`",
        );
        let name = name.map(str::trim).ok_or(Refusal::bad_request(
            "missing_query",
            "an upload needs the file's name in `?name=`",
        ))?;
        let length = name.chars().count();
        let clean = !name
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\');
        if (1..=200).contains(&length) && clean && name != "." && name != ".." {
            Ok(Self(name.to_owned()))
        } else {
            Err(INVALID)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `Content-Disposition` for downloading a file named `name`: always an attachment (never shown
/// inline by a browser), the name percent-encoded as RFC 6266 / 5987 `filename*`, with an ASCII
/// fallback.
pub fn attachment_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"._-".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// `?visibility=team|private`, team when absent.
pub fn parse_visibility(value: Option<&str>) -> Result<&'static str, Refusal> {
    match value {
        None | Some("team") => Ok("team"),
        Some("private") => Ok("private"),
        Some(_) => Err(Refusal::bad_request(
            "invalid_query",
            "`visibility` is `team` or `private`",
        )),
    }
}

#[cfg(test)]
mod tests;
