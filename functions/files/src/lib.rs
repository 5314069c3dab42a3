//! Files in R2 with a processed copy. Which files a caller sees is decided by RLS
//! (`sql/migrations/0048_files.sql`: creator, team, share link), then the object is streamed:
//!
//! - `POST /functions/v1/files?workspace=<uuid>&name=<name>[&visibility=team|private]`: the raw
//!   file as the body (PNG, JPEG or UTF-8 text, at most 5 MiB, its `Content-Type` matching its
//!   bytes); stores the original and a processed copy; 201 with the file.
//! - `GET /functions/v1/files?workspace=<uuid>`: the files the caller sees there.
//! - `GET /functions/v1/files/content?id=<uuid>[&variant=processed|original]`: the file.
//! - `POST /functions/v1/files/share?id=<uuid>[&expires_in_days=1..365]`: a share link to the
//!   file (owners and admins, as for notes), 201 with its one-time token.
//! - `GET /functions/v1/files/shared`: the processed copy of the file the `x-share-token` header
//!   opens.
//! - `DELETE /functions/v1/files?id=<uuid>`: the creator deletes the file and both objects.

use edge_adapter::{
    delete_file, query_integer, query_text, raw_body, required_query_uuid, send_file, store_file,
    Access, ApiError, Call, Reply,
};
use edge_guard::{PublicEndpoint, Refusal, TenantUser, User, UserRequirement};
use file_kinds::{parse_visibility, FileName, Upload, MAX_FILE_BYTES};
use rls_db::files::{self, FileCopy, NewFile};
use rls_db::share_links::{self, Shared, DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS};

edge_adapter::serve! {
    routes {
        POST "/functions/v1/files" => tenant_user(UserRequirement::SIGNED_IN) => upload_file,
        GET "/functions/v1/files" => tenant_user(UserRequirement::SIGNED_IN) => list_files,
        DELETE "/functions/v1/files" => user(UserRequirement::SIGNED_IN) => remove_file,
        GET "/functions/v1/files/content" => user(UserRequirement::SIGNED_IN) => download_file,
        POST "/functions/v1/files/share" => user(UserRequirement::SIGNED_IN) => share_file,
        GET "/functions/v1/files/shared" => public(
            "a share link's holder has no account: the x-share-token header is the credential, and the anon role's policy shows only the file a live token opens"
        ) => download_shared_file,
    }
}

async fn upload_file(mut call: Call<TenantUser>) -> Result<Reply, ApiError> {
    let name = FileName::parse(query_text(&call.req, "name").as_deref())?;
    let visibility = parse_visibility(query_text(&call.req, "visibility").as_deref())?;
    let original = raw_body(&mut call.req, MAX_FILE_BYTES).await?;
    let declared = call.req.headers().get("content-type").ok().flatten();
    let upload = Upload::check(declared.as_deref(), &original)?;
    let file = NewFile {
        workspace_id: call.principal.workspace_id().to_owned(),
        name: name.as_str().to_owned(),
        content_type: upload.kind.content_type(),
        visibility,
        original_bytes: original.len() as i64,
        processed_bytes: upload.processed.len() as i64,
    };
    store_file(&call, file, original, upload.processed).await
}

async fn list_files(call: Call<TenantUser>) -> Result<Reply, ApiError> {
    call.answer_from_db(Access::ReadOnly, 200, |tx, user| {
        Box::pin(files::list(tx, user.workspace_id()))
    })
    .await
}

async fn download_file(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    let copy = match query_text(&call.req, "variant").as_deref() {
        None | Some("processed") => FileCopy::Processed,
        Some("original") => FileCopy::Original,
        Some(_) => {
            return Err(Refusal::bad_request(
                "invalid_query",
                "`variant` is `original` or `processed`",
            )
            .into())
        }
    };
    send_file(&call, Some(id), copy).await
}

/// No token, a wrong, expired or revoked one: all the same 404. Only the processed copy is
/// shared (the original may carry metadata its creator did not mean to publish).
async fn download_shared_file(call: Call<PublicEndpoint>) -> Result<Reply, ApiError> {
    send_file(&call, None, FileCopy::Processed).await
}

async fn remove_file(call: Call<User>) -> Result<Reply, ApiError> {
    let id = required_query_uuid(&call.req, "id")?;
    delete_file(&call, id).await
}

/// The link is the notes' share link pointing at a file: the same token, expiry, revocation
/// (`POST /functions/v1/share-links/revoke`) and listing; the same insert policy (managers only).
async fn share_file(call: Call<User>) -> Result<Reply, ApiError> {
    let file = Shared::File(required_query_uuid(&call.req, "id")?);
    // In 1..=365 by the bounds checked.
    let days = query_integer(&call.req, "expires_in_days", 1, MAX_EXPIRY_DAYS.into())?
        .map_or(DEFAULT_EXPIRY_DAYS, |days| days as i32);
    call.answer_from_db(Access::ReadWrite, 201, move |tx, _user| {
        Box::pin(async move { share_links::create(tx, &file, days).await })
    })
    .await
}
