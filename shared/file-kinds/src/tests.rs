use super::*;

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&[0, 0, 0, 0]);
    chunk
}

fn png(chunks: &[(&[u8; 4], &[u8])], trailer: &[u8]) -> Vec<u8> {
    let mut bytes = images::PNG_SIGNATURE.to_vec();
    for (kind, data) in chunks {
        bytes.extend(png_chunk(kind, data));
    }
    bytes.extend_from_slice(trailer);
    bytes
}

fn jpeg(segments: &[(u8, &[u8])], scan: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8];
    for (marker, data) in segments {
        bytes.extend_from_slice(&[0xFF, *marker]);
        bytes.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(data);
    }
    bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x01]);
    bytes.extend_from_slice(scan);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

#[test]
fn png_loses_its_text_exif_and_trailer_but_keeps_pixels_and_colour() {
    let upload = png(
        &[
            (b"IHDR", &[0; 13]),
            (b"tEXt", b"Author\0Jane Doe"),
            (b"eXIf", b"GPS 51.5N 0.1W"),
            (b"gAMA", &[0, 0, 0xB1, 0x8F]),
            (b"IDAT", b"pixels"),
            (b"IEND", b""),
        ],
        b"hidden after the end",
    );
    let checked = Upload::check(Some("image/png"), &upload).unwrap();
    assert_eq!(checked.kind, FileKind::Png);
    let expected = png(
        &[
            (b"IHDR", &[0; 13]),
            (b"gAMA", &[0, 0, 0xB1, 0x8F]),
            (b"IDAT", b"pixels"),
            (b"IEND", b""),
        ],
        b"",
    );
    assert_eq!(checked.processed, expected);
}

#[test]
fn damaged_png_is_refused() {
    let truncated = png(&[(b"IHDR", &[0; 13]), (b"IDAT", b"pixels")], b"");
    let cut = &truncated[..truncated.len() - 3];
    for bytes in [
        cut,
        &truncated[..],
        &png(&[(b"IDAT", b"x"), (b"IEND", b"")], b"")[..],
    ] {
        let refused = Upload::check(Some("image/png"), bytes).unwrap_err();
        assert_eq!((refused.status, refused.code), (400, "malformed_file"));
    }
    let mut huge_length = png(&[(b"IHDR", &[0; 13]), (b"IEND", b"")], b"");
    huge_length[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Upload::check(Some("image/png"), &huge_length)
            .unwrap_err()
            .code,
        "malformed_file"
    );
}

#[test]
fn jpeg_loses_exif_iptc_and_comments_but_keeps_jfif_icc_and_tables() {
    let upload = jpeg(
        &[
            (0xE0, b"JFIF\0"),
            (0xE1, b"Exif\0\0GPS"),
            (0xE2, b"ICC_PROFILE\0"),
            (0xED, b"Photoshop 3.0 IPTC"),
            (0xFE, b"a comment"),
            (0xDB, &[0; 65]),
        ],
        &[0x12, 0xFF, 0x00, 0x34],
    );
    let checked = Upload::check(Some("image/jpeg"), &upload).unwrap();
    let expected = jpeg(
        &[
            (0xE0, b"JFIF\0"),
            (0xE2, b"ICC_PROFILE\0"),
            (0xDB, &[0; 65]),
        ],
        &[0x12, 0xFF, 0x00, 0x34],
    );
    assert_eq!(checked.processed, expected);
}

#[test]
fn damaged_jpeg_is_refused() {
    let whole = jpeg(&[(0xE0, b"JFIF\0")], b"data");
    for cut in [4, 8, whole.len() - 1] {
        let refused = Upload::check(Some("image/jpeg"), &whole[..cut]).unwrap_err();
        assert_eq!(refused.code, "malformed_file", "cut at {cut}");
    }
}

#[test]
fn text_is_normalised() {
    let checked = Upload::check(
        Some("text/plain; charset=UTF-8"),
        "\u{feff}line one\r\nline\u{7}two\rthree\ttab".as_bytes(),
    )
    .unwrap();
    assert_eq!(checked.kind, FileKind::Text);
    assert_eq!(checked.processed, b"line one\nlinetwo\nthree\ttab");
}

#[test]
fn the_bytes_decide_the_kind_and_the_declared_type_must_agree() {
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff";
    let refused = Upload::check(Some("image/gif"), gif).unwrap_err();
    assert_eq!(
        (refused.status, refused.code),
        (415, "unsupported_file_type")
    );
    let pdf_as_text = b"%PDF-1.7\n\x00\x01binary";
    assert_eq!(
        Upload::check(Some("text/plain"), pdf_as_text)
            .unwrap_err()
            .code,
        "unsupported_file_type"
    );
    let text_as_png = Upload::check(Some("image/png"), b"just text").unwrap_err();
    assert_eq!(
        (text_as_png.status, text_as_png.code),
        (415, "content_type_mismatch")
    );
    for declared in [None, Some("text/html"), Some("text/plain; charset=latin1")] {
        assert_eq!(
            Upload::check(declared, b"hello").unwrap_err().code,
            "content_type_mismatch"
        );
    }
    assert_eq!(
        Upload::check(Some("text/plain"), b"").unwrap_err().code,
        "empty_file"
    );
    assert_eq!(
        Upload::check(Some("text/plain"), "\u{feff}".as_bytes())
            .unwrap_err()
            .code,
        "empty_file"
    );
}

#[test]
fn names_are_bounded_and_downloads_are_attachments() {
    assert_eq!(
        FileName::parse(Some("report.png")).unwrap().as_str(),
        "report.png"
    );
    for bad in [
        "",
        "   ",
        "a/b",
        "a\\b",
        "..",
        "tab\there",
        &"x".repeat(201),
    ] {
        assert_eq!(
            FileName::parse(Some(bad)).unwrap_err().code,
            "invalid_query",
            "{bad:?}"
        );
    }
    assert_eq!(FileName::parse(None).unwrap_err().code, "missing_query");
    assert_eq!(
        attachment_disposition("résumé \"v2\".txt"),
        "attachment; filename=\"r_sum_ _v2_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.txt"
    );
}

#[test]
fn query_choices() {
    assert_eq!(parse_visibility(None).unwrap(), "team");
    assert_eq!(parse_visibility(Some("private")).unwrap(), "private");
    assert!(parse_visibility(Some("public")).is_err());
}
