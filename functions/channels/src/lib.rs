//! `/functions/v1/channels`: a workspace's WhatsApp numbers (Meta `phone_number_id`s whose
//! deliveries are filed under it).
//!
//! - `GET ?workspace=<uuid>`: the channels, for members (RLS decides; another tenant's
//!   workspace lists nothing).
//! - `POST ?workspace=<uuid>` `{"waba_id","phone_number_id","access_token"}`: connect a number,
//!   for owners and admins. Ownership is proven with Meta's Graph API: the tenant's own access
//!   token must list the number among its WhatsApp Business Account's numbers. 201 connected,
//!   200 already connected here, 403 `ownership_not_proven` / `forbidden` (not owner or admin),
//!   404 `workspace_not_found`, 409 `phone_number_taken`.
//! - `DELETE ?id=<uuid>`: disconnect, for owners and admins (404 when not visible, 403 for a
//!   plain member).

use api_input::Text;
use edge_adapter::{
    in_transaction, json_body, prove_whatsapp_number, query_uuid, request_info, Access, ApiError,
    Call, Reply,
};
use edge_guard::{Refusal, TenantUser, User, UserRequirement};
use rls_db::channels::{self, Connected, Disconnected};
use serde::Deserialize;
use serde_json::json;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/channels" => tenant_user(UserRequirement::SIGNED_IN) => list_channels,
        POST "/functions/v1/channels" => tenant_user(UserRequirement::SIGNED_IN) => connect_channel,
        DELETE "/functions/v1/channels" => user(UserRequirement::SIGNED_IN) => disconnect_channel,
    }
}

/// A connect request is three short strings.
const MAX_CONNECT_BYTES: usize = 4 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectChannel {
    waba_id: Text<1, 32>,
    phone_number_id: Text<1, 32>,
    /// From Meta's Embedded Signup or a system user of the tenant's business; used once, to ask
    /// Meta, and never stored.
    access_token: Text<1, 2048>,
}

async fn list_channels(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let body = in_transaction(
        &call.env,
        &call.principal,
        Access::ReadOnly,
        &request_info(&call.req),
        |tx, caller| Box::pin(channels::list(tx, caller.workspace_id())),
    )
    .await?;
    Ok(Reply::json_text(body))
}

async fn connect_channel(mut call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let input: ConnectChannel = json_body(&mut call.req, MAX_CONNECT_BYTES).await?;
    let proof = prove_whatsapp_number(
        &call.env,
        &call.principal,
        input.waba_id.as_str(),
        input.phone_number_id.as_str(),
        input.access_token.as_str(),
    )
    .await?;
    let connected = in_transaction(
        &call.env,
        &proof,
        Access::ReadWrite,
        &request_info(&call.req),
        |tx, proof| Box::pin(channels::connect(tx, proof)),
    )
    .await?;
    let status = match connected {
        Connected::New => 201,
        Connected::Already => 200,
        Connected::Taken => {
            return Err(Refusal::new(
                409,
                "phone_number_taken",
                "another workspace has connected this number",
            )
            .into())
        }
        Connected::NotFound => return Err(workspace_not_found()),
        Connected::Forbidden => return Err(not_a_manager()),
    };
    Ok(Reply::json(
        status,
        json!({
            "workspace_id": proof.workspace_id(),
            "waba_id": proof.waba_id(),
            "phone_number_id": proof.phone_number_id(),
            "display_phone_number": proof.display_phone_number(),
        }),
    ))
}

async fn disconnect_channel(call: Call<User>) -> Result<Reply, ApiError> {
    let id = query_uuid(&call.req, "id")?.ok_or(Refusal::bad_request(
        "invalid_query",
        "name the channel with ?id=<uuid>",
    ))?;
    let outcome = in_transaction(
        &call.env,
        &call.principal,
        Access::ReadWrite,
        &request_info(&call.req),
        move |tx, _| Box::pin(async move { channels::disconnect(tx, &id).await }),
    )
    .await?;
    match outcome {
        Disconnected::Done => Ok(Reply::json(200, json!({ "disconnected": true }))),
        Disconnected::NotFound => Err(Refusal::new(
            404,
            "channel_not_found",
            "no such channel in your workspaces",
        )
        .into()),
        Disconnected::Forbidden => Err(not_a_manager()),
    }
}

fn workspace_not_found() -> ApiError {
    Refusal::new(404, "workspace_not_found", "no such workspace among yours").into()
}

fn not_a_manager() -> ApiError {
    Refusal::forbidden(
        "forbidden",
        "only the workspace's owners and admins manage its channels",
    )
    .into()
}
