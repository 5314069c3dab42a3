//! Files in the R2 bucket bound as `FILES`. Postgres decides first (the file's row is visible to
//! the caller under RLS, or the answer is 404); only then is an object read, written or deleted,
//! and only under the key the row holds (`<workspace_id>/<file_id>/original|processed`).

use edge_guard::{is_uuid, CronCaller, DbPrincipal, Refusal, TenantUser, User};
use rls_db::budgets::Meter;
use rls_db::files::{self, FileCopy, NewFile};
use rls_db::{Access, RequestInfo};
use worker::{Bucket, Env, Headers, Response};

use crate::browser::add_security_headers;
use crate::{in_transaction, log_event, ApiError, Call, Level, Reply};

const STORAGE_UNAVAILABLE: ApiError = ApiError::Upstream("R2 bucket FILES");

fn bucket(env: &Env) -> Result<Bucket, ApiError> {
    env.bucket("FILES")
        .map_err(|_| ApiError::NotConfigured("FILES (R2 bucket binding)"))
}

/// Stores an accepted upload as the workspace's `file` budget allows (bytes of both copies,
/// reserved before anything is stored and settled after: 429 `budget_exhausted` when it cannot
/// hold them, nothing spent when storing fails): the row first (RLS: a member, as themselves),
/// then the original and the processed copy under the row's keys; answers 201 with the file.
/// When R2 fails, the row and whatever was written are removed again and the answer is 503
/// `upstream_unavailable`.
pub async fn store_file(
    call: &Call<TenantUser>,
    file: NewFile,
    original: Vec<u8>,
    processed: Vec<u8>,
) -> Result<Reply, ApiError> {
    let bucket = bucket(&call.env)?;
    let bytes = (original.len() + processed.len()) as i64;
    let workspace_id = file.workspace_id.clone();
    let store = async {
        let created = call
            .in_transaction(Access::ReadWrite, move |tx, _user| {
                Box::pin(async move { files::create(tx, &file).await })
            })
            .await?;
        let keys = [created.original_key.clone(), created.processed_key.clone()];
        let written = async {
            bucket.put(&keys[0], original).execute().await?;
            bucket.put(&keys[1], processed).execute().await
        }
        .await;
        if written.is_err() {
            let id = created.id;
            let _ = call
                .in_transaction(Access::ReadWrite, move |tx, _user| {
                    Box::pin(async move { files::delete(tx, &id).await })
                })
                .await;
            let _ = bucket.delete_multiple(keys.to_vec()).await;
            return Err(STORAGE_UNAVAILABLE);
        }
        let reply = Reply::Json {
            status: 201,
            body: created.json,
        };
        Ok((reply, bytes))
    };
    call.spend(&workspace_id, Meter::File, bytes, store).await
}

/// Streams a copy of a file the caller sees: file `id`, or (`None`) the one the request's
/// `x-share-token` opens. 404 when RLS hides the row, 410 `original_purged` for an original the
/// retention job removed. The object goes from R2 to the client without passing through WASM,
/// as an attachment with the platform's security headers (`nosniff`, `default-src 'none'`).
pub async fn send_file<P: DbPrincipal + 'static>(
    call: &Call<P>,
    id: Option<String>,
    copy: FileCopy,
) -> Result<Reply, ApiError> {
    let bucket = bucket(&call.env)?;
    let object = call
        .in_transaction(Access::ReadOnly, move |tx, _| {
            Box::pin(async move { files::object(tx, id.as_deref(), copy).await })
        })
        .await?;
    if object.purged {
        return Err(Refusal::new(
            410,
            "original_purged",
            "the original was deleted after the retention period; the processed copy remains",
        )
        .into());
    }
    let missing = || {
        ApiError::from(Refusal::new(
            404,
            "not_found",
            "nothing with that id is visible to you",
        ))
    };
    let stored = bucket
        .get(&object.key)
        .execute()
        .await
        .map_err(|_| STORAGE_UNAVAILABLE)?
        .ok_or_else(missing)?;
    let size = stored.size();
    let body = stored
        .body()
        .ok_or_else(missing)?
        .response_body()
        .map_err(|_| STORAGE_UNAVAILABLE)?;
    let build = || -> worker::Result<Response> {
        let headers = Headers::new();
        headers.set("content-type", &object.content_type)?;
        headers.set("content-length", &size.to_string())?;
        headers.set(
            "content-disposition",
            &file_kinds::attachment_disposition(&object.name),
        )?;
        add_security_headers(&headers)?;
        Ok(Response::from_body(body)?.with_headers(headers))
    };
    Ok(Reply::Streamed(
        build().map_err(|_| ApiError::Upstream("R2 object body"))?,
    ))
}

/// Deletes file `id` (its creator only: 403 for another member, 404 when hidden), then its two
/// objects. Answers the deleted file. Objects R2 failed to delete are logged (the workspace's
/// deletion removes them by prefix).
pub async fn delete_file(call: &Call<User>, id: String) -> Result<Reply, ApiError> {
    let bucket = bucket(&call.env)?;
    let (file, keys) = call
        .in_transaction(Access::ReadWrite, move |tx, _user| {
            Box::pin(async move { files::delete(tx, &id).await })
        })
        .await?;
    if bucket.delete_multiple(keys.to_vec()).await.is_err() {
        log_event(
            Level::Error,
            "file_objects_left",
            &[("keys", keys.join(",").into())],
        );
    }
    Ok(Reply::json_text(file))
}

/// The retention step for files: deletes from R2 the originals older than `retention_days`
/// (at most 1000 per run) and marks them purged, recording the run in `cron_runs`; the
/// processed copies stay. An R2 failure marks nothing (503), so the next run retries.
/// Returns how many originals were purged.
pub async fn purge_file_originals(
    env: &Env,
    caller: &CronCaller,
    request: &RequestInfo,
    retention_days: i32,
) -> Result<i64, ApiError> {
    let bucket = bucket(env)?;
    let due = in_transaction(env, caller, Access::ReadOnly, request, move |tx, caller| {
        Box::pin(async move { files::originals_due(tx, caller, retention_days, 1000).await })
    })
    .await?;
    let (ids, keys): (Vec<String>, Vec<String>) = due.into_iter().unzip();
    if !keys.is_empty() {
        bucket
            .delete_multiple(keys)
            .await
            .map_err(|_| STORAGE_UNAVAILABLE)?;
    }
    in_transaction(
        env,
        caller,
        Access::ReadWrite,
        request,
        move |tx, caller| {
            Box::pin(
                async move { files::mark_originals_purged(tx, caller, retention_days, &ids).await },
            )
        },
    )
    .await
}

/// Deletes every object under `<workspace_id>/` (workspace or account deletion: before the
/// rows go). Returns how many objects were deleted.
pub async fn delete_workspace_objects(env: &Env, workspace_id: &str) -> Result<u64, ApiError> {
    if !is_uuid(workspace_id) {
        // Never an empty or partial prefix: that would reach other tenants' objects.
        return Err(
            Refusal::bad_request("invalid_workspace", "the workspace id must be a uuid").into(),
        );
    }
    let bucket = bucket(env)?;
    let mut deleted = 0;
    loop {
        let page = bucket
            .list()
            .prefix(format!("{workspace_id}/"))
            .execute()
            .await
            .map_err(|_| STORAGE_UNAVAILABLE)?;
        let keys: Vec<String> = page.objects().iter().map(|object| object.key()).collect();
        if keys.is_empty() {
            return Ok(deleted);
        }
        deleted += keys.len() as u64;
        bucket
            .delete_multiple(keys)
            .await
            .map_err(|_| STORAGE_UNAVAILABLE)?;
    }
}

/// Deletes every object of the files `user_id` created (account deletion, before the rows go;
/// the principal must run as `service_role`). Returns how many objects were deleted.
pub async fn delete_user_objects<P: DbPrincipal + 'static>(
    env: &Env,
    principal: &P,
    request: &RequestInfo,
    user_id: &str,
) -> Result<u64, ApiError> {
    let bucket = bucket(env)?;
    let user_id = user_id.to_owned();
    let keys = in_transaction(env, principal, Access::ReadOnly, request, move |tx, _| {
        Box::pin(async move { files::object_keys_of_user(tx, &user_id).await })
    })
    .await?;
    let deleted = keys.len() as u64;
    for page in keys.chunks(1000) {
        bucket
            .delete_multiple(page.to_vec())
            .await
            .map_err(|_| STORAGE_UNAVAILABLE)?;
    }
    Ok(deleted)
}
