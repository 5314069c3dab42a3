//! Metadata removal by structure alone: a PNG is a list of chunks, a JPEG a list of segments
//! before its image data. What carries no pixels or colour is dropped; nothing is decoded.

use edge_guard::Refusal;

use crate::MALFORMED;

pub(crate) const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Ancillary PNG chunks that change how the pixels look; every other ancillary chunk (`tEXt`,
/// `zTXt`, `iTXt`, `eXIf`, `tIME`, private ones) is metadata and dropped. Critical chunks (upper
/// case first letter) are always kept.
const PNG_KEPT_ANCILLARY: [&[u8; 4]; 7] = [
    b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs",
];

/// The PNG with only its critical and rendering chunks, ending at `IEND` (bytes after it,
/// a common hiding place, are dropped).
pub(crate) fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut out = PNG_SIGNATURE.to_vec();
    let mut rest = &bytes[PNG_SIGNATURE.len()..];
    let mut first = true;
    loop {
        let (length, kind) = match rest {
            [a, b, c, d, t0, t1, t2, t3, ..] => (
                u32::from_be_bytes([*a, *b, *c, *d]) as usize,
                [*t0, *t1, *t2, *t3],
            ),
            _ => return Err(MALFORMED),
        };
        let total = length.checked_add(12).ok_or(MALFORMED)?;
        let chunk = rest.get(..total).ok_or(MALFORMED)?;
        if first && &kind != b"IHDR" {
            return Err(MALFORMED);
        }
        first = false;
        let critical = kind[0].is_ascii_uppercase();
        if critical || PNG_KEPT_ANCILLARY.contains(&&kind) {
            out.extend_from_slice(chunk);
        }
        if &kind == b"IEND" {
            return Ok(out);
        }
        rest = &rest[total..];
    }
}

/// JPEG markers kept before the image data: APP0 (JFIF), APP2 (ICC colour profile) and APP14
/// (Adobe colour transform). Every other APPn (APP1: EXIF with GPS and XMP; APP13: IPTC) and
/// comments (COM) are dropped.
fn jpeg_keeps(marker: u8) -> bool {
    match marker {
        0xE0 | 0xE2 | 0xEE => true,
        0xE1..=0xEF | 0xFE => false,
        _ => true,
    }
}

/// The JPEG without metadata segments, ending at its last `EOI`.
pub(crate) fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut out = vec![0xFF, 0xD8];
    let mut at = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (&[0xFF], Some(&marker)) = (bytes.get(at..at + 1).ok_or(MALFORMED)?, bytes.get(at + 1))
        else {
            return Err(MALFORMED);
        };
        match marker {
            // Markers without a length: restart markers and TEM.
            0xD0..=0xD7 | 0x01 => {
                out.extend_from_slice(&[0xFF, marker]);
                at += 2;
                continue;
            }
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            0xD8 | 0x00 => return Err(MALFORMED),
            _ => {}
        }
        let length = match bytes.get(at + 2..at + 4) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
            _ => return Err(MALFORMED),
        };
        if length < 2 {
            return Err(MALFORMED);
        }
        let end = at + 2 + length;
        let segment = bytes.get(at..end).ok_or(MALFORMED)?;
        if jpeg_keeps(marker) {
            out.extend_from_slice(segment);
        }
        if marker == 0xDA {
            // Start of scan: the image data (and any further scans) up to the last EOI.
            let image = &bytes[end..];
            let eoi = image
                .windows(2)
                .rposition(|pair| pair == [0xFF, 0xD9])
                .ok_or(MALFORMED)?;
            out.extend_from_slice(&image[..eoi + 2]);
            return Ok(out);
        }
        at = end;
    }
}
