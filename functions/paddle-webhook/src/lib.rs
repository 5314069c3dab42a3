//! `POST /functions/v1/paddle-webhook`: a Paddle Billing notification. The event is stored once
//! per `event_id` and processed in the same transaction (subscription and transaction.completed
//! events update the workspace's billing account, in `occurred_at` order; a failure is recorded on
//! the stored row): a new or already-stored event answers 200 (Paddle stops retrying); a storage
//! failure answers 503 (it retries); a bad signature answers 401 (from the guard).

edge_adapter::serve! {
    routes {
        POST "/functions/v1/paddle-webhook" => paddle_webhook => edge_adapter::store_webhook,
    }
}
