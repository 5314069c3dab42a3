//! Share links to one note (`sql/migrations/0011_share_links.sql`, `0020_…`):
//!
//! - `POST /functions/v1/share-links`: an owner or admin creates a link ([`NewShareLink`]); 201
//!   with its token, shown this once (only its sha256 is stored).
//! - `GET /functions/v1/share-links?workspace=<uuid>`: the workspace's links (no tokens).
//! - `POST /functions/v1/share-links/revoke?id=<uuid>`: revokes a link for good.
//! - `GET /functions/v1/share-links/note` with the token in `x-share-token`: the shared note, for
//!   anyone holding the token. The one anonymous data route: it runs as `anon`, whose only
//!   policy shows the note a live token opens.

use api_input::{Number, Uuid};
use edge_adapter::{json_body, required_query_uuid, Access, ApiError, Call, Reply};
use edge_guard::{PublicEndpoint, TenantUser, User, UserRequirement};
use rls_db::managed;
use rls_db::share_links::{self, Shared, DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS};
use serde::Deserialize;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/share-links" => tenant_user(UserRequirement::SIGNED_IN) => list_links,
        POST "/functions/v1/share-links" => user(UserRequirement::SIGNED_IN) => create_link,
        POST "/functions/v1/share-links/revoke" => user(UserRequirement::SIGNED_IN) => revoke_link,
        GET "/functions/v1/share-links/note" => public(
            "a share link's holder has no account: the x-share-token header is the credential, and the anon role's policy shows only the note a live token opens"
        ) => shared_note,
    }
}

/// A link request is a uuid and a number: anything near this is not one.
const LINK_BODY_MAX_BYTES: usize = 1024;

/// `POST /functions/v1/share-links`: `{"note_id": uuid, "expires_in_days"?: 1–365 (default 30)}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewShareLink {
    note_id: Uuid,
    expires_in_days: Option<Number<1, { MAX_EXPIRY_DAYS as i64 }>>,
}

async fn create_link(mut call: Call<User>) -> Result<Reply, ApiError> {
    let link: NewShareLink = json_body(&mut call.req, LINK_BODY_MAX_BYTES).await?;
    // In 1..=365 by its type.
    let days = link
        .expires_in_days
        .map_or(DEFAULT_EXPIRY_DAYS, |days| days.get() as i32);
    let note = Shared::Note(link.note_id.as_str().to_owned());
    call.answer_from_db(Access::ReadWrite, 201, move |tx, _user| {
        Box::pin(async move { share_links::create(tx, &note, days).await })
    })
    .await
}

async fn list_links(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadOnly, 200, |tx, user| {
        Box::pin(managed::share_links(tx, user.workspace_id()))
    })
    .await
}

async fn revoke_link(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    call.answer_from_db(Access::ReadWrite, 200, move |tx, _user| {
        Box::pin(async move { share_links::revoke(tx, &id).await })
    })
    .await
}

/// No token, a wrong, expired or revoked one, a trashed note: all the same 404.
async fn shared_note(call: Call<PublicEndpoint>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadOnly, 200, |tx, _anon| {
        Box::pin(share_links::shared_note(tx))
    })
    .await
}
