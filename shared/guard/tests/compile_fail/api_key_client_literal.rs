// Not by a struct literal either.
fn main() {
    let _ = edge_guard::ApiKeyClient {
        key_id: "key".into(),
        workspace_id: "workspace".into(),
        scopes: vec![],
    };
}
