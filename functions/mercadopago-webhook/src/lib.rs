//! `POST /functions/v1/mercadopago-webhook?data.id=…&type=…`: a Mercado Pago notification signed
//! in `x-signature` (over `data.id` from the URL, `x-request-id` and the time; not the body). It
//! is stored once under `<id>:<type>:<data.id>:<action>`: a new or already-stored notification
//! answers 200 (Mercado Pago stops retrying), a storage failure 503 (it retries), a bad or stale
//! signature 401, a body whose `data.id` is not the signed one 400. Whatever later acts on it
//! must fetch the resource by `data.id`: the body's other claims are unsigned.

edge_adapter::serve! {
    routes {
        POST "/functions/v1/mercadopago-webhook" => mercadopago_webhook => edge_adapter::store_webhook,
    }
}
