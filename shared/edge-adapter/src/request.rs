//! Reading what a request carries, without ever panicking on what a caller sends.

use edge_guard::{is_uuid, Refusal};
use serde::de::DeserializeOwned;
use worker::Request;

use crate::byte_chunks::{lock_reader, next_chunk};
use crate::ApiError;

/// An optional uuid query-string parameter (the first one when repeated); anything else is a 400.
pub fn query_uuid(req: &Request, name: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = query_text(req, name) else {
        return Ok(None);
    };
    if is_uuid(&value) {
        Ok(Some(value))
    } else {
        Err(Refusal::bad_request(
            "invalid_query",
            "a query parameter that names an id must be a uuid",
        )
        .into())
    }
}

/// A uuid query-string parameter the route requires (`?id=<uuid>`): 400 `missing_query` when
/// absent, 400 `invalid_query` when not a uuid.
pub fn required_query_uuid(req: &Request, name: &str) -> Result<String, ApiError> {
    query_uuid(req, name)?.ok_or_else(|| {
        Refusal::bad_request(
            "missing_query",
            "this route needs the id of what it acts on in its query string",
        )
        .into()
    })
}

/// An optional whole-number query-string parameter within `min..=max`; anything else is a 400.
pub fn query_integer(
    req: &Request,
    name: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ApiError> {
    let Some(value) = query_text(req, name) else {
        return Ok(None);
    };
    match value.parse::<i64>() {
        Ok(number) if (min..=max).contains(&number) => Ok(Some(number)),
        _ => Err(Refusal::bad_request(
            "invalid_query",
            "a numeric query parameter is not a whole number in its allowed range",
        )
        .into()),
    }
}

/// A query-string parameter as sent (the first one when repeated).
pub fn query_text(req: &Request, name: &str) -> Option<String> {
    req.url()
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The raw query string (without `?`; empty when there is none), for verifiers that read it as
/// the provider signed it.
pub(crate) fn query_string(req: &Request) -> String {
    req.url()
        .ok()
        .and_then(|url| url.query().map(String::from))
        .unwrap_or_default()
}

pub(crate) fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Reads the body once, refusing with 413 when Content-Length (checked first, before reading)
/// or the bytes actually received exceed `max`. The body is read as a stream and abandoned as
/// soon as it passes `max`, so a chunked body (no Content-Length) never sits whole in memory.
pub(crate) async fn read_body_capped(req: &mut Request, max: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || Refusal::payload_too_large("the body is larger than this endpoint accepts");
    let unreadable =
        || Refusal::bad_request("unreadable_body", "the request body could not be read");
    if let Some(length) = header(req, "content-length") {
        let length: usize = length.trim().parse().map_err(|_| {
            Refusal::bad_request("invalid_content_length", "Content-Length is not a number")
        })?;
        if length > max {
            return Err(too_large().into());
        }
    }
    let Some(stream) = req.inner().body() else {
        return Ok(Vec::new());
    };
    let reader = lock_reader(&stream).map_err(|_| unreadable())?;
    let mut body = Vec::new();
    while let Some(chunk) = next_chunk(&reader).await.map_err(|_| unreadable())? {
        let start = body.len();
        let end = start + chunk.length() as usize;
        if end > max {
            // Stop the rest of the upload rather than receive it.
            let _ = reader.cancel();
            return Err(too_large().into());
        }
        body.resize(end, 0);
        chunk.copy_to(&mut body[start..]);
    }
    Ok(body)
}

/// The raw body, at most `max` bytes (413 `payload_too_large` beyond, refused while it is still
/// arriving): for uploads, whose bytes are checked by their own policy.
pub async fn raw_body(req: &mut Request, max: usize) -> Result<Vec<u8>, ApiError> {
    read_body_capped(req, max).await
}

/// The body parsed into the endpoint's input type `T` (see the `api-input` crate): at most `max`
/// bytes (413 beyond), then 400 naming the field for anything `T` does not accept.
pub async fn json_body<T: DeserializeOwned>(req: &mut Request, max: usize) -> Result<T, ApiError> {
    let body = read_body_capped(req, max).await?;
    Ok(api_input::parse_json(&body)?)
}
