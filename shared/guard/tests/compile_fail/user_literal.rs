// A struct literal: the fields are private.
fn main() {
    let _ = edge_guard::User {
        id: None,
        role: edge_guard::DbRole::ServiceRole,
        aal: edge_guard::Aal::Aal2,
        session_id: None,
        signed_in_at: None,
        claims: serde_json::json!({"role": "service_role"}),
        access_token: panic!("this file must not compile"),
    };
}
