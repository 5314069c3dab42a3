//! The database connection's bytes over the Hyperdrive binding's socket, with the socket's
//! readable and writable sides each locked once for the connection's life.
//!
//! Why not `worker::Socket`: it takes a new reader for every read and a new writer for every
//! write and releases each afterwards. Releasing a lock rejects that reader's or writer's
//! `closed` promise with a TypeError, and V8 captures the error's stack through the WASM frames:
//! about 0.7 ms of workerd's CPU per database request (BENCHMARKS.md, "Where workerd's time
//! goes").

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use worker::js_sys::{Error as JsError, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::Hyperdrive as HyperdriveBinding;
use worker::Hyperdrive;

use web_sys::{ReadableStreamDefaultReader, WritableStreamDefaultWriter};

use crate::byte_chunks::{chunk_of, lock_reader};

pub(crate) struct DbSocket {
    reader: ReadableStreamDefaultReader,
    writer: WritableStreamDefaultWriter,
    /// The read in flight, if any.
    reading: Option<JsFuture>,
    /// The last chunk read and how much of it the caller has taken.
    unread: Vec<u8>,
    taken: usize,
    /// The last write handed to the stream; the stream writes in order, so when this one is
    /// done every earlier one is.
    writing: Option<JsFuture>,
    closing: Option<JsFuture>,
    shut: bool,
}

impl DbSocket {
    /// Opens a socket through the binding (`Hyperdrive.connect()`) and locks both of its sides.
    pub fn connect(hyperdrive: &Hyperdrive) -> Result<Self, JsValue> {
        let binding: &HyperdriveBinding = hyperdrive.as_ref().unchecked_ref();
        let socket = binding.connect()?;
        Ok(Self {
            reader: lock_reader(&socket.readable()?)?,
            writer: socket.writable()?.get_writer()?,
            reading: None,
            unread: Vec::new(),
            taken: 0,
            writing: None,
            closing: None,
            shut: false,
        })
    }

    /// Waits for the last write handed to the stream.
    fn poll_written(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(write) = &mut self.writing {
            let outcome = ready!(write.poll_unpin(cx));
            self.writing = None;
            outcome.map_err(io_error)?;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for DbSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.taken == this.unread.len() {
            let reader = &this.reader;
            let read = this
                .reading
                .get_or_insert_with(|| JsFuture::from(reader.read()));
            let outcome = ready!(read.poll_unpin(cx));
            this.reading = None;
            let Some(chunk) = outcome.and_then(chunk_of).map_err(io_error)? else {
                // End of stream: nothing added to `buf`.
                return Poll::Ready(Ok(()));
            };
            this.unread = chunk.to_vec();
            this.taken = 0;
        }
        let count = buf.remaining().min(this.unread.len() - this.taken);
        buf.put_slice(&this.unread[this.taken..this.taken + count]);
        this.taken += count;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for DbSocket {
    /// Hands `buf` (copied) to the stream once the previous write is done, and reports it written:
    /// a failure surfaces on the next write, flush or shutdown.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_written(cx))?;
        let chunk = Uint8Array::from(buf);
        this.writing = Some(JsFuture::from(this.writer.write_with_chunk(&chunk)));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_written(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.shut {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_written(cx))?;
        let writer = &this.writer;
        let close = this
            .closing
            .get_or_insert_with(|| JsFuture::from(writer.close()));
        let outcome = ready!(close.poll_unpin(cx));
        this.closing = None;
        this.shut = true;
        Poll::Ready(outcome.map(drop).map_err(io_error))
    }
}

fn io_error(value: JsValue) -> io::Error {
    let message = match value.dyn_ref::<JsError>() {
        Some(error) => String::from(error.message()),
        None => value
            .as_string()
            .unwrap_or_else(|| "the database socket failed".to_owned()),
    };
    io::Error::other(message)
}
