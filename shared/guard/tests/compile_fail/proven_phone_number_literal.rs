// A proof of number ownership comes only from Meta's listing for a verified user.
fn main() {
    let _ = edge_guard::ProvenPhoneNumber {
        user_id: "aaaaaaaa-0000-4000-8000-000000000001".into(),
        workspace_id: "a0000000-0000-4000-8000-00000000000a".into(),
        waba_id: "1".into(),
        phone_number_id: "2".into(),
        display_phone_number: None,
    };
}
