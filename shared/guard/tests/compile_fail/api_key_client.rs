// An API-key caller exists only after the stored hash matched.
fn main() {
    let _ = edge_guard::ApiKeyClient::new("key".into(), "workspace".into(), vec![]);
}
