//! Answers whose body is produced while it is sent: a transaction writes chunks into a bounded
//! channel and the response's `ReadableStream` reads them, so a large answer (an account export)
//! is never held in the isolate's memory as a whole.

use edge_guard::DbPrincipal;
use futures_channel::mpsc;
use futures_util::future::{poll_fn, LocalBoxFuture};
use futures_util::{stream, StreamExt};
use rls_db::account::ChunkSink;
use rls_db::{Access, DbError};
use tokio_postgres::Transaction;
use worker::{Headers, Response};

use crate::browser::add_security_headers;
use crate::{in_transaction, request_info, ApiError, Call, Reply};

/// Chunks waiting between the transaction and the response: the writer waits while it is full.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The writing end handed to the transaction's work.
pub struct ChannelSink(mpsc::Sender<Result<Vec<u8>, ApiError>>);

impl ChunkSink for ChannelSink {
    fn send(&mut self, chunk: String) -> LocalBoxFuture<'_, Result<(), DbError>> {
        Box::pin(async move {
            let gone = |_| DbError::UnexpectedResult("the response stream was closed");
            poll_fn(|cx| self.0.poll_ready(cx)).await.map_err(gone)?;
            self.0.start_send(Ok(chunk.into_bytes())).map_err(gone)
        })
    }
}

impl<P: DbPrincipal + 'static> Call<P> {
    /// 200 with a JSON body that `work` writes, in one transaction as this call's principal.
    /// A failure before the first chunk is answered like any error (its status and code); after
    /// it the status is sent already, so the body is cut off (the client sees a broken stream,
    /// never a truncated document that parses).
    pub async fn stream_json_from_db(
        self,
        access: Access,
        work: impl for<'t> FnOnce(
                &'t Transaction<'t>,
                &'t P,
                ChannelSink,
            ) -> LocalBoxFuture<'t, Result<(), DbError>>
            + 'static,
    ) -> Result<Reply, ApiError> {
        let (sender, mut receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let mut failures = sender.clone();
        let request = request_info(&self.req);
        let Call { principal, env, .. } = self;
        wasm_bindgen_futures::spawn_local(async move {
            let sink = ChannelSink(sender);
            let outcome = in_transaction(&env, &principal, access, &request, move |tx, p| {
                work(tx, p, sink)
            })
            .await;
            if let Err(error) = outcome {
                let _ = poll_fn(|cx| failures.poll_ready(cx)).await;
                let _ = failures.start_send(Err(error));
            }
        });
        let first = match receiver.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(error)) => return Err(error),
            None => {
                return Err(ApiError::Db(DbError::UnexpectedResult(
                    "the answer ended before it began",
                )))
            }
        };
        let rest = receiver.map(|item| {
            item.map_err(|error| {
                let (_, code, _) = error.status_code_message();
                worker::Error::RustError(format!("the answer failed while streaming: {code}"))
            })
        });
        let body = stream::once(async move { Ok::<_, worker::Error>(first) }).chain(rest);
        let headers = Headers::new();
        let broken = |_| ApiError::NotConfigured("a streamed response");
        headers
            .set("content-type", "application/json; charset=utf-8")
            .map_err(broken)?;
        add_security_headers(&headers).map_err(broken)?;
        Ok(Reply::Streamed(
            Response::from_stream(body)
                .map_err(broken)?
                .with_headers(headers),
        ))
    }
}
