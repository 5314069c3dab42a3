//! The signed-in user's own profile (sql/migrations/0009: each user writes only their own row).

use edge_guard::Refusal;
use tokio_postgres::Transaction;

use crate::rows::optional_text;
use crate::DbError;

const PROFILE_NOT_FOUND: Refusal =
    Refusal::new(404, "profile_not_found", "you have no profile yet: PUT one");

async fn own(tx: &Transaction<'_>) -> Result<Option<String>, DbError> {
    optional_text(
        tx,
        "select json_build_object('id', p.id, 'display_name', p.display_name,
                  'avatar_url', p.avatar_url, 'created_at', p.created_at, 'updated_at', p.updated_at)::text
           from public.profiles p where p.id = (select auth.uid())",
        &[],
    )
    .await
}

/// The caller's profile.
pub async fn get_own(tx: &Transaction<'_>) -> Result<Result<String, Refusal>, DbError> {
    Ok(own(tx).await?.ok_or(PROFILE_NOT_FOUND))
}

/// Creates or replaces the caller's profile (`avatar_url` None clears it).
pub async fn put_own(
    tx: &Transaction<'_>,
    display_name: &str,
    avatar_url: Option<&str>,
) -> Result<String, DbError> {
    tx.execute_typed(
        "insert into public.profiles (display_name, avatar_url) values ($1, $2)
         on conflict (id) do update
           set display_name = excluded.display_name, avatar_url = excluded.avatar_url,
               updated_at = now()",
        &[
            (&display_name, tokio_postgres::types::Type::TEXT),
            (&avatar_url, tokio_postgres::types::Type::TEXT),
        ],
    )
    .await?;
    own(tx).await?.ok_or(DbError::UnexpectedResult(
        "the profile just written is not visible",
    ))
}
