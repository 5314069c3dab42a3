// The constructor the JWT verifier uses is crate-private.
fn main() {
    let _ = edge_guard::User::from_verified_claims(
        None,
        edge_guard::DbRole::ServiceRole,
        edge_guard::Aal::Aal2,
        None,
        None,
        serde_json::json!({}),
        "a forged token",
    );
}
