// A webhook is verified only by a provider verifier.
fn main() {
    let _ = edge_guard::VerifiedWebhook::new(
        edge_guard::WebhookProvider::Paddle,
        "evt".into(),
        "type".into(),
        None,
        serde_json::json!({}),
        "{}".into(),
    );
}
