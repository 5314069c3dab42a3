//! `/functions/v1/profile`: the signed-in user's own profile. `GET` reads it, `PUT` creates or
//! replaces it (each user writes only their own row: sql/migrations/0009).
//! `POST /functions/v1/profile/sign-out-everywhere` ends every session of the caller
//! (sql/migrations/0042): every function refuses their existing tokens from the next request on.

use api_input::{HttpsUrl, Text};
use edge_adapter::{json_body, Access, ApiError, Call, Reply};
use edge_guard::{User, UserRequirement};
use rls_db::{profiles, sessions};
use serde::Deserialize;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/profile" => user(UserRequirement::SIGNED_IN) => read,
        PUT "/functions/v1/profile" => user(UserRequirement::SIGNED_IN) => replace,
        POST "/functions/v1/profile/sign-out-everywhere" => user(UserRequirement::SIGNED_IN) => sign_out_everywhere,
    }
}

const MAX_BODY_BYTES: usize = 4096;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    display_name: Text<1, 100>,
    #[serde(default)]
    avatar_url: Option<HttpsUrl<2000>>,
}

async fn read(call: Call<User>) -> Result<Reply, ApiError> {
    let body = call
        .in_transaction(Access::ReadOnly, |tx, _| Box::pin(profiles::get_own(tx)))
        .await??;
    Ok(Reply::json_text(body))
}

async fn replace(mut call: Call<User>) -> Result<Reply, ApiError> {
    let input: Profile = json_body(&mut call.req, MAX_BODY_BYTES).await?;
    let body = call
        .in_transaction(Access::ReadWrite, move |tx, _| {
            Box::pin(async move {
                profiles::put_own(
                    tx,
                    input.display_name.as_str(),
                    input.avatar_url.as_ref().map(HttpsUrl::as_str),
                )
                .await
            })
        })
        .await?;
    Ok(Reply::json_text(body))
}

async fn sign_out_everywhere(call: Call<User>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadWrite, 200, |tx, _| {
        Box::pin(sessions::sign_out_everywhere(tx))
    })
    .await
}
