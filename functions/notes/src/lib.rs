//! `GET /functions/v1/notes[?workspace=<uuid>]`: the signed-in user's notes, newest first.
//! Guard: Supabase user JWT. Which rows come back is decided by RLS, not by this code.

use edge_adapter::{
    in_transaction, query_uuid, request_info, require_method, respond, signed_in_user, Access,
    ApiError, Reply,
};
use rls_db::notes;
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    respond(list_notes(req, env).await)
}

async fn list_notes(req: Request, env: Env) -> Result<Reply, ApiError> {
    require_method(&req, Method::Get)?;
    let user = signed_in_user(&req, &env)?;
    let workspace = query_uuid(&req, "workspace")?;

    let body = in_transaction(
        &env,
        &user,
        Access::ReadOnly,
        &request_info(&req),
        move |tx, _user| {
            Box::pin(async move { notes::list_visible(tx, workspace.as_deref()).await })
        },
    )
    .await?;
    Ok(Reply::json_text(body))
}
