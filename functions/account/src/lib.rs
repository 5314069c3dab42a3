//! `/functions/v1/account`: the signed-in user's account as a whole. `GET` its state (whether a
//! deletion is pending), `GET /export` everything the user owns or wrote as one JSON bundle,
//! streamed, `POST /deletion` schedules the account's deletion after a grace period, `DELETE
//! /deletion` cancels it. Which rows are the user's, and what deletion does with them, is the
//! database's account data rules (sql/migrations/0044, 0045).

use edge_adapter::{Access, ApiError, Call, Reply};
use edge_guard::{User, UserRequirement};
use rls_db::account;

edge_adapter::serve! {
    routes {
        GET "/functions/v1/account" => user(UserRequirement::SIGNED_IN) => state,
        GET "/functions/v1/account/export" => user(
            UserRequirement::SIGNED_IN.with_aal2().with_recent_sign_in(ACCOUNT_SIGN_IN_MAX_AGE_SECS)
        ) => export,
        POST "/functions/v1/account/deletion" => user(
            UserRequirement::SIGNED_IN.with_aal2().with_recent_sign_in(ACCOUNT_SIGN_IN_MAX_AGE_SECS)
        ) => request_deletion,
        DELETE "/functions/v1/account/deletion" => user(
            UserRequirement::SIGNED_IN.with_aal2().with_recent_sign_in(ACCOUNT_SIGN_IN_MAX_AGE_SECS)
        ) => cancel_deletion,
    }
}

/// Exporting or deleting an account needs a sign-in this recent (and the second factor).
const ACCOUNT_SIGN_IN_MAX_AGE_SECS: u64 = 15 * 60;

async fn state(call: Call<User>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadOnly, 200, |tx, _| {
        Box::pin(account::deletion_status(tx))
    })
    .await
}

async fn export(call: Call<User>) -> Result<Reply, ApiError> {
    call.stream_json_from_db(Access::ReadOnly, |tx, user, mut sink| {
        Box::pin(async move { account::export(tx, user.id().unwrap_or_default(), &mut sink).await })
    })
    .await
}

async fn request_deletion(call: Call<User>) -> Result<Reply, ApiError> {
    let body = call
        .in_transaction(Access::ReadWrite, |tx, _| {
            Box::pin(account::request_deletion(tx))
        })
        .await??;
    Ok(Reply::Json { status: 202, body })
}

async fn cancel_deletion(call: Call<User>) -> Result<Reply, ApiError> {
    let body = call
        .in_transaction(Access::ReadWrite, |tx, _| {
            Box::pin(account::cancel_deletion(tx))
        })
        .await??;
    Ok(Reply::json_text(body))
}
