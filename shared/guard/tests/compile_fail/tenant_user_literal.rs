// Nor built by a struct literal.
fn forge(user: edge_guard::User) {
    let _ = edge_guard::TenantUser {
        user,
        workspace_id: "a0000000-0000-4000-8000-00000000000a".into(),
    };
}

fn main() {}
