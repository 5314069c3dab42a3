//! API keys of a workspace, managed by its owners and admins at aal2
//! (`sql/migrations/0014_api_keys.sql`, `0018_…`, `0041_api_key_callers.sql`), and what a key
//! caller does with notes. The key is made by the database (`rlse_<12 hex>_<64 hex>`: 48 random
//! bits of prefix, 244 of secret, from `gen_random_uuid`), returned once and stored only as its
//! prefix and sha256. No tenant filter here: the policies decide which keys and notes exist.

use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use crate::error::{done_or_why, found};
use crate::rows::WORKSPACE_NOT_FOUND;
use crate::DbError;

/// At most this many keys per list (newest first).
pub const KEYS_MAX: i64 = 100;

/// A key's columns as the API shows them: never its hash.
const KEY_JSON: &str = "json_build_object('id', k.id, 'workspace_id', k.workspace_id,
    'name', k.name, 'prefix', k.prefix, 'scopes', k.scopes, 'created_by', k.created_by,
    'created_at', k.created_at, 'expires_at', k.expires_at, 'last_used_at', k.last_used_at,
    'revoked_at', k.revoked_at)";

/// Mints a key for `workspace_id`, expiring after `expires_in_days` (never when `None`), and
/// returns it with the key text, the only time it is shown: `{id, workspace_id, name, prefix,
/// scopes, …, key}`. A workspace the caller does not manage at
/// aal2 is refused by the insert policy (403); one they cannot see at all is 404.
pub async fn create(
    tx: &Transaction<'_>,
    workspace_id: &str,
    name: &str,
    scopes: &[&str],
    expires_in_days: Option<i32>,
) -> Result<String, DbError> {
    let sql = format!(
        "with minted as materialized (
           select p.prefix, 'rlse_' || p.prefix || '_' || replace(gen_random_uuid()::text, '-', '')
                  || replace(gen_random_uuid()::text, '-', '') as key
             from (select substr(replace(gen_random_uuid()::text, '-', ''), 1, 12) as prefix) p),
         k as (
           insert into public.api_keys (workspace_id, name, prefix, key_hash, scopes, expires_at)
           select w.id, $2, m.prefix, sha256(convert_to(m.key, 'UTF8')), $3::text[], now() + make_interval(days => $4)
             from public.workspaces w, minted m
            where w.id = $1::uuid
           returning *)
         select ({KEY_JSON}::jsonb || jsonb_build_object('key', m.key))::text from k, minted m"
    );
    let rows = tx
        .query_typed(
            &sql,
            &[
                (&workspace_id, Type::TEXT),
                (&name, Type::TEXT),
                (&scopes, Type::TEXT_ARRAY),
                (&expires_in_days, Type::INT4),
            ],
        )
        .await?;
    match rows.is_empty() {
        true => Err(DbError::Refused(WORKSPACE_NOT_FOUND)),
        false => found(rows),
    }
}

/// The workspace's keys (prefix, name, scopes, times; never the hash), newest first. A plain
/// member hears 403, anyone else 404.
pub async fn list(tx: &Transaction<'_>, workspace_id: &str) -> Result<String, DbError> {
    let sql = format!(
        "select case when $1::uuid = any (array(select private.managed_workspace_ids())) then
                  (select coalesce(json_agg({KEY_JSON} order by k.created_at desc, k.id), '[]')::text
                     from (select * from public.api_keys where workspace_id = $1::uuid
                            order by created_at desc, id limit $2) k) end,
                exists (select 1 from public.workspaces w where w.id = $1::uuid)"
    );
    done_or_why(
        tx.query_typed(
            &sql,
            &[(&workspace_id, Type::TEXT), (&KEYS_MAX, Type::INT8)],
        )
        .await?,
    )
}

/// Revokes key `id` for good (the server's clock; revoking again changes nothing) and returns
/// it. A key the caller cannot see (members and aal1 sessions see none) is 404.
pub async fn revoke(tx: &Transaction<'_>, id: &str) -> Result<String, DbError> {
    let sql = format!(
        "update public.api_keys k set revoked_at = coalesce(k.revoked_at, now())
          where k.id = $1::uuid
         returning {KEY_JSON}::text"
    );
    found(tx.query_typed(&sql, &[(&id, Type::TEXT)]).await?)
}

/// Creates a team note in `workspace_id` (default: the key's own) as the key caller and returns
/// `{id, workspace_id, body, visibility, created_at}`. A workspace that is not the key's is 404
/// (`workspace_not_found`): the same helper the insert policy checks decides, and the policy
/// still refuses anything else. The note's author is the member who minted the key. Nothing is
/// read back through RETURNING, so a key with `notes:write` alone can create.
pub async fn create_note(
    tx: &Transaction<'_>,
    workspace_id: Option<&str>,
    body: &str,
) -> Result<String, DbError> {
    let rows = tx
        .query_typed(
            "with target as materialized (
               select gen_random_uuid() as id, w.workspace_id, now() as created_at
                 from (select coalesce($1::uuid, ((select auth.jwt()) ->> 'workspace_id')::uuid)
                              as workspace_id) w
                where w.workspace_id = (select private.api_key_workspace_id('notes:write'))),
             inserted as (
               insert into public.notes (id, workspace_id, body)
               select t.id, t.workspace_id, $2 from target t)
             select json_build_object('id', t.id, 'workspace_id', t.workspace_id, 'body', $2,
                      'visibility', 'team', 'created_at', t.created_at)::text
               from target t",
            &[(&workspace_id, Type::TEXT), (&body, Type::TEXT)],
        )
        .await?;
    match rows.is_empty() {
        true => Err(DbError::Refused(WORKSPACE_NOT_FOUND)),
        false => found(rows),
    }
}
