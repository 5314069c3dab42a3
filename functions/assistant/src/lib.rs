//! `POST /functions/v1/assistant?workspace=<uuid>`: a signed-in member asks a question about the
//! workspace's notes and gets the model's answer. One call into the shared pipeline
//! (`edge_adapter::ask_assistant`: strikes, input guard, the `ai` budget, the chat completions
//! API, settle). `GET /functions/v1/assistant/usage?workspace=<uuid>`: the workspace's budgets
//! (every meter: limit, spent, reserved, remaining this period), for its owners and admins.

use api_input::Text;
use edge_adapter::{
    ask_assistant, json_body, request_info, Access, ApiError, AskFor, Call, NotesSeen, Reply,
};
use edge_guard::{TenantUser, UserRequirement};
use rls_db::budgets;
use serde::Deserialize;
use serde_json::json;

edge_adapter::serve! {
    routes {
        POST "/functions/v1/assistant" => tenant_user(UserRequirement::SIGNED_IN) => ask,
        GET "/functions/v1/assistant/usage" => tenant_user(UserRequirement::SIGNED_IN) => usage,
    }
}

/// A question of up to 2,000 characters, JSON-encoded (escapes included) in at most 16 KiB.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Question {
    question: Text<1, 2000>,
}

async fn ask(mut call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let input: Question = json_body(&mut call.req, MAX_BODY_BYTES).await?;
    let user_id = call.principal.user().id().unwrap_or_default();
    let asker = AskFor {
        env: &call.env,
        principal: &call.principal,
        request: request_info(&call.req),
        workspace_id: call.principal.workspace_id().to_owned(),
        subject: format!("user:{user_id}"),
        notes: NotesSeen::ByCaller,
    };
    let answer = ask_assistant(&asker, input.question.as_str()).await?;
    Ok(Reply::json(
        200,
        json!({ "answer": answer.text, "notes_used": answer.notes_used, "tokens": answer.tokens }),
    ))
}

async fn usage(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadOnly, 200, |tx, user| {
        Box::pin(budgets::usage(tx, user.workspace_id()))
    })
    .await
}
