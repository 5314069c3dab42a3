//! Proof that a workspace may connect a WhatsApp business number: Meta's Graph API, asked with
//! the tenant's own access token (from Embedded Signup or a system user of its business), lists
//! the number among the phone numbers of the tenant's WhatsApp Business Account
//! (`GET /{waba-id}/phone_numbers`). A token only lists the accounts it was granted, so nobody can
//! prove a number of a business that did not authorize them.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::principal::sealed::Sealed;
use crate::{DbPrincipal, DbRole, Refusal, TenantUser};

/// The most digits a Graph API id has here (`messaging_channels` allows 1 to 32).
const MAX_ID_DIGITS: usize = 32;
/// The longest display number kept (`messaging_channels.display_phone_number`).
const MAX_DISPLAY_LEN: usize = 32;

const INVALID_GRAPH_ID: Refusal = Refusal::bad_request(
    "invalid_field",
    "waba_id and phone_number_id must be 1 to 32 digits",
);
const TOKEN_REFUSED: Refusal = Refusal::forbidden(
    "ownership_not_proven",
    "Meta did not list this WhatsApp Business Account's numbers for the given access token",
);
const NUMBER_NOT_LISTED: Refusal = Refusal::forbidden(
    "ownership_not_proven",
    "the phone number is not one of this WhatsApp Business Account's numbers",
);

/// Graph API ids are decimal digits.
pub fn is_graph_id(id: &str) -> bool {
    (1..=MAX_ID_DIGITS).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// Both ids a connection names must be Graph API ids (checked before Meta is asked).
pub fn check_graph_ids(waba_id: &str, phone_number_id: &str) -> Result<(), Refusal> {
    if is_graph_id(waba_id) && is_graph_id(phone_number_id) {
        Ok(())
    } else {
        Err(INVALID_GRAPH_ID)
    }
}

#[derive(Deserialize)]
struct Listing {
    data: Vec<ListedNumber>,
}

#[derive(Deserialize)]
struct ListedNumber {
    id: String,
    display_phone_number: Option<String>,
}

/// A number the signed-in owner or admin proved its business holds, ready to be connected to
/// the workspace. Runs as the service role (no API role may write `messaging_channels`), with the
/// user as `sub`, so `public.connect_messaging_channel` checks that user's role in the workspace.
#[derive(Debug, Clone)]
pub struct ProvenPhoneNumber {
    user_id: String,
    workspace_id: String,
    waba_id: String,
    phone_number_id: String,
    display_phone_number: Option<String>,
}

impl ProvenPhoneNumber {
    /// `status` and `body` are the Graph API's answer to `GET /{waba_id}/phone_numbers` made with
    /// the caller's access token. Anything but a 200 listing that contains `phone_number_id` is
    /// refused with 403 `ownership_not_proven`.
    pub fn from_graph_listing(
        caller: &TenantUser,
        waba_id: &str,
        phone_number_id: &str,
        status: u16,
        body: &[u8],
    ) -> Result<Self, Refusal> {
        check_graph_ids(waba_id, phone_number_id)?;
        let user_id = caller.user().id().ok_or(TOKEN_REFUSED)?.to_owned();
        if status != 200 {
            return Err(TOKEN_REFUSED);
        }
        let listing: Listing = serde_json::from_slice(body).map_err(|_| TOKEN_REFUSED)?;
        let number = listing
            .data
            .into_iter()
            .find(|n| n.id == phone_number_id)
            .ok_or(NUMBER_NOT_LISTED)?;
        Ok(Self {
            user_id,
            workspace_id: caller.workspace_id().to_owned(),
            waba_id: waba_id.to_owned(),
            phone_number_id: number.id,
            display_phone_number: number
                .display_phone_number
                .filter(|d| d.chars().count() <= MAX_DISPLAY_LEN),
        })
    }

    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
    pub fn waba_id(&self) -> &str {
        &self.waba_id
    }
    pub fn phone_number_id(&self) -> &str {
        &self.phone_number_id
    }
    pub fn display_phone_number(&self) -> Option<&str> {
        self.display_phone_number.as_deref()
    }
}

impl Sealed for ProvenPhoneNumber {}
impl DbPrincipal for ProvenPhoneNumber {
    fn db_role(&self) -> DbRole {
        DbRole::ServiceRole
    }
    fn jwt_claims(&self) -> Value {
        json!({ "role": "service_role", "sub": self.user_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Aal, User};

    const WS: &str = "a0000000-0000-4000-8000-00000000000a";
    const LISTING: &[u8] = br#"{"data":[{"verified_name":"Acme","display_phone_number":"+1 555-0101","id":"200000000000001","quality_rating":"GREEN"}],"paging":{"cursors":{"before":"a","after":"b"}}}"#;

    fn caller() -> TenantUser {
        let user = User::from_verified_claims(
            Some("aaaaaaaa-0000-4000-8000-000000000001".into()),
            DbRole::Authenticated,
            Aal::Aal1,
            None,
            None,
            json!({}),
            "t",
        );
        TenantUser::new(user, Some(WS)).unwrap()
    }

    #[test]
    fn a_listed_number_is_proven_for_the_caller() {
        let proof = ProvenPhoneNumber::from_graph_listing(
            &caller(),
            "102290129340398",
            "200000000000001",
            200,
            LISTING,
        )
        .unwrap();
        assert_eq!(proof.workspace_id(), WS);
        assert_eq!(proof.display_phone_number(), Some("+1 555-0101"));
        assert_eq!(proof.db_role(), DbRole::ServiceRole);
        assert_eq!(
            proof.jwt_claims()["sub"],
            "aaaaaaaa-0000-4000-8000-000000000001"
        );
    }

    #[test]
    fn an_unlisted_number_or_a_refused_token_proves_nothing() {
        let refused = |phone: &str, status: u16, body: &[u8]| {
            ProvenPhoneNumber::from_graph_listing(&caller(), "102290129340398", phone, status, body)
                .unwrap_err()
        };
        assert_eq!(
            refused("200000000000002", 200, LISTING).code,
            "ownership_not_proven"
        );
        let oauth = br#"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}"#;
        assert_eq!(refused("200000000000001", 401, oauth).status, 403);
        assert_eq!(refused("200000000000001", 200, b"not json").status, 403);
        assert_eq!(
            refused("200000000000001", 200, br#"{"data":{}}"#).status,
            403
        );
        assert_eq!(refused("20000000000000x", 200, LISTING).status, 400);
        assert_eq!(refused("", 200, LISTING).status, 400);
    }
}
