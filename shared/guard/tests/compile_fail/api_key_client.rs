// An API-key caller exists only from a presented key that parsed (its route's guard).
fn main() {
    let _ = edge_guard::ApiKeyClient::new("0123456789ab".into(), [0; 32], "notes:read");
}
