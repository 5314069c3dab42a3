// A tenant cannot be attached to a user outside the guard.
fn forge(user: edge_guard::User) {
    let _ = edge_guard::TenantUser::new(user, Some("a0000000-0000-4000-8000-00000000000a"));
}

fn main() {}
