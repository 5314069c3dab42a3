// A foreign type cannot become a database identity: DbPrincipal is sealed.
struct Admin;

impl edge_guard::DbPrincipal for Admin {
    fn db_role(&self) -> edge_guard::DbRole {
        edge_guard::DbRole::ServiceRole
    }
    fn jwt_claims(&self) -> serde_json::Value {
        serde_json::json!({ "role": "service_role" })
    }
}

fn main() {}
