//! `POST /functions/v1/mercadopago-webhook?data.id=…&type=…`: a Mercado Pago notification signed
//! in `x-signature` (over `data.id` from the URL, `x-request-id` and the time; not the body). It
//! is stored once under `<data.id>:<x-request-id>:<ts>` (signed parts only, so a replayed
//! signature with another body is a duplicate): a new or already-stored notification answers 200
//! (Mercado Pago stops retrying), a storage failure 503 (it retries), a bad or stale signature
//! 401, a body whose `data.id` is not the signed one 400. Then the payment is fetched from Mercado
//! Pago's API by the signed `data.id` and applied to its workspace's billing account; the body's
//! other claims are unsigned and never acted on. A failed fetch is recorded on the stored row and
//! retried by `webhook-replay`.

edge_adapter::serve! {
    routes {
        POST "/functions/v1/mercadopago-webhook" => mercadopago_webhook => edge_adapter::store_webhook,
    }
}
