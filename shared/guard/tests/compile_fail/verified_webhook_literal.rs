// Not by a struct literal either.
fn main() {
    let _ = edge_guard::VerifiedWebhook {
        provider: edge_guard::WebhookProvider::Paddle,
        event_id: "evt".into(),
        event_type: "type".into(),
        occurred_at: None,
        payload: serde_json::json!({}),
        raw_body: "{}".into(),
        resource_id: None,
    };
}
