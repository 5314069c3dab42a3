// Not by a struct literal either.
fn main() {
    let _ = edge_guard::ApiKeyClient {
        key_prefix: "0123456789ab".into(),
        key_sha256: [0; 32],
        required_scope: "notes:read",
    };
}
