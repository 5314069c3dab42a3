//! Bytes from a runtime `ReadableStream` through one reader that is never released: workerd
//! answers a release by rejecting the reader's `closed` promise with a TypeError whose stack it
//! captures through the WASM frames, the largest cost of `worker`'s own stream adapters
//! (BENCHMARKS.md, "Where workerd's time goes").

use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStream;

use web_sys::{ReadableStreamDefaultReader, ReadableStreamReadResult};

/// A reader holding `stream` for good; an error if the stream is already locked.
pub(crate) fn lock_reader(stream: &ReadableStream) -> Result<ReadableStreamDefaultReader, JsValue> {
    ReadableStreamDefaultReader::new(stream)
}

/// The bytes of one settled `reader.read()`; `None` at the end of the stream.
pub(crate) fn chunk_of(read: JsValue) -> Result<Option<Uint8Array>, JsValue> {
    let result: ReadableStreamReadResult = read.unchecked_into();
    if result.get_done().unwrap_or(false) {
        return Ok(None);
    }
    result.get_value().dyn_into().map(Some)
}

/// The next chunk from `reader`; `None` at the end of the stream.
pub(crate) async fn next_chunk(
    reader: &ReadableStreamDefaultReader,
) -> Result<Option<Uint8Array>, JsValue> {
    chunk_of(JsFuture::from(reader.read()).await?)
}
