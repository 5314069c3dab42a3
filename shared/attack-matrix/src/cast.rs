//! Who is who in the fixture, read from `attack_matrix.actors` (sql/tests/fixtures/
//! attack_matrix_cast.sql), and the identities the matrix runs as.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio_postgres::Client;

use crate::tags::Principal;
use crate::SetupError;

/// The six kinds of attacker the matrix sends at every table and command, as fourteen
/// identities: the share-link holder comes with an expired, a revoked and a valid token, each
/// sent anonymously (how a shared row is read) and by a signed-in user of another tenant. The
/// valid token opens one row (the cast's `shared_row_id`): anywhere else, and for anything but
/// what the tag grants `share` on that row, it is an attack. The API-key caller comes with a
/// revoked and an expired key of the victim tenant, another tenant's live key, and a live victim
/// key whose only scope (`webhooks:read`) no table grants; each claims the victim workspace and
/// every scope (the strongest claims a key caller could carry past `private.admit_api_key`), so
/// the policies must re-read the key's row to refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attacker {
    Anon,
    Outsider,
    PlainMember,
    RemovedMember,
    ExpiredShareLink,
    RevokedShareLink,
    SignedInExpiredShareLink,
    SignedInRevokedShareLink,
    ValidShareLink,
    SignedInValidShareLink,
    RevokedApiKey,
    ExpiredApiKey,
    OtherTenantApiKey,
    ScopelessApiKey,
}

impl Attacker {
    pub const ALL: [Attacker; 14] = [
        Attacker::Anon,
        Attacker::Outsider,
        Attacker::PlainMember,
        Attacker::RemovedMember,
        Attacker::ExpiredShareLink,
        Attacker::RevokedShareLink,
        Attacker::SignedInExpiredShareLink,
        Attacker::SignedInRevokedShareLink,
        Attacker::ValidShareLink,
        Attacker::SignedInValidShareLink,
        Attacker::RevokedApiKey,
        Attacker::ExpiredApiKey,
        Attacker::OtherTenantApiKey,
        Attacker::ScopelessApiKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Attacker::Anon => "anon",
            Attacker::Outsider => "user of another tenant",
            Attacker::PlainMember => "plain member",
            Attacker::RemovedMember => "removed member",
            Attacker::ExpiredShareLink => "anon with an expired share link",
            Attacker::RevokedShareLink => "anon with a revoked share link",
            Attacker::SignedInExpiredShareLink => "outsider with an expired share link",
            Attacker::SignedInRevokedShareLink => "outsider with a revoked share link",
            Attacker::ValidShareLink => "anon with a valid share link",
            Attacker::SignedInValidShareLink => "outsider with a valid share link",
            Attacker::RevokedApiKey => "revoked API key",
            Attacker::ExpiredApiKey => "expired API key",
            Attacker::OtherTenantApiKey => "another tenant's API key",
            Attacker::ScopelessApiKey => "API key without the scope",
        }
    }

    /// Whether the tag lets this attacker run the command on this row: then it is no attack.
    /// Anon callers are allowed only by `anon` (a dead share token is no `share`); signed-in
    /// non-members only by `authenticated`; the plain member also by `member` or by
    /// being the row's creator; a valid token's holders also by `share`, on the row it opens.
    /// `admin` and `owner` never cover an attacker, nor does anything cover a key attacker.
    pub fn is_allowed(self, allowed: &[Principal], row: &Value, cast: &Cast) -> bool {
        allowed.iter().any(|principal| match (self, principal) {
            (
                Attacker::Anon
                | Attacker::ExpiredShareLink
                | Attacker::RevokedShareLink
                | Attacker::ValidShareLink,
                Principal::Anon,
            ) => true,
            (
                Attacker::Outsider
                | Attacker::RemovedMember
                | Attacker::PlainMember
                | Attacker::SignedInExpiredShareLink
                | Attacker::SignedInRevokedShareLink
                | Attacker::SignedInValidShareLink,
                Principal::Authenticated,
            ) => true,
            (Attacker::ValidShareLink | Attacker::SignedInValidShareLink, Principal::Share) => {
                cast.is_shared_row(row)
            }
            (Attacker::PlainMember, Principal::Member) => true,
            (Attacker::PlainMember, Principal::Creator(column)) => {
                row_text(row, column).as_deref() == Some(cast.member.as_str())
            }
            _ => false,
        })
    }
}

/// An identity exactly as PostgREST would set it: a role, the JWT claims, the request headers.
#[derive(Debug, Clone)]
pub struct Identity {
    pub label: String,
    pub role: &'static str,
    pub claims: Value,
    pub headers: Value,
}

impl Identity {
    fn anon(label: &str, headers: Value) -> Self {
        Identity {
            label: label.to_owned(),
            role: "anon",
            claims: json!({ "role": "anon" }),
            headers,
        }
    }

    /// A signed-in user with a fully verified session (aal2), the strongest token a user can
    /// hold, so an action that needs a second factor is attacked with one.
    fn user(label: &str, id: &str) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Identity {
            label: format!("{label} {id}"),
            role: "authenticated",
            claims: json!({
                "sub": id, "role": "authenticated", "aud": "authenticated",
                "iat": now, "exp": now + 300, "aal": "aal2",
                "amr": [{ "method": "totp", "timestamp": now }, { "method": "password", "timestamp": now }],
                "app_metadata": {}, "user_metadata": {}, "is_anonymous": false,
            }),
            headers: json!({}),
        }
    }
}

impl Identity {
    /// An API-key caller as `private.admit_api_key` sets it (no `sub`), claiming the victim
    /// workspace and every scope whatever its key's row says.
    fn api_key(label: &str, key_id: &str, victim_tenant: &str) -> Self {
        Identity {
            label: format!("{label} {key_id}"),
            role: "authenticated",
            claims: json!({
                "role": "authenticated", "api_key_id": key_id, "workspace_id": victim_tenant,
                "scopes": ["notes:read", "notes:write", "webhooks:read"],
            }),
            headers: json!({}),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cast {
    pub victim_tenant: String,
    pub owner: String,
    pub admin: Option<String>,
    pub member: String,
    pub outsider: String,
    pub removed_member: String,
    pub share_header: String,
    pub share_token_valid: String,
    /// The `id` of the one row the valid token opens.
    pub shared_row_id: String,
    pub share_token_expired: String,
    pub share_token_revoked: String,
    /// Ids of the victim tenant's API keys: live with every scope (the legitimate `api_key:`
    /// actor), revoked, expired, and live with only `webhooks:read`; and another tenant's live key.
    pub api_key_valid: String,
    pub api_key_revoked: String,
    pub api_key_expired: String,
    pub api_key_scopeless: String,
    pub api_key_other_tenant: String,
}

impl Cast {
    pub async fn load(superuser: &Client) -> Result<Self, SetupError> {
        let rows = superuser
            .query("select name, value from attack_matrix.actors", &[])
            .await
            .map_err(|e| SetupError::Cast(format!("cannot read attack_matrix.actors ({e}): load sql/tests/fixtures/attack_matrix_cast.sql")))?;
        let pairs: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let find = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let need = |name: &str| {
            find(name)
                .ok_or_else(|| SetupError::Cast(format!("attack_matrix.actors has no `{name}`")))
        };
        let cast = Cast {
            victim_tenant: need("victim_tenant")?,
            owner: need("owner")?,
            admin: find("admin"),
            member: need("member")?,
            outsider: need("outsider")?,
            removed_member: need("removed_member")?,
            share_header: need("share_header")?.to_lowercase(),
            share_token_valid: need("share_token_valid")?,
            shared_row_id: need("shared_row_id")?,
            share_token_expired: need("share_token_expired")?,
            share_token_revoked: need("share_token_revoked")?,
            api_key_valid: need("api_key_valid")?,
            api_key_revoked: need("api_key_revoked")?,
            api_key_expired: need("api_key_expired")?,
            api_key_scopeless: need("api_key_scopeless")?,
            api_key_other_tenant: need("api_key_other_tenant")?,
        };
        let users = [
            &cast.owner,
            &cast.member,
            &cast.outsider,
            &cast.removed_member,
        ];
        if (1..users.len()).any(|i| users[..i].contains(&users[i])) {
            return Err(SetupError::Cast(
                "owner, member, outsider and removed_member must be four different users".into(),
            ));
        }
        Ok(cast)
    }

    pub fn attacker(&self, attacker: Attacker) -> Identity {
        let share = |token: &str| json!({ self.share_header.as_str(): token });
        match attacker {
            Attacker::Anon => Identity::anon("anon", json!({})),
            Attacker::Outsider => Identity::user("user of another tenant", &self.outsider),
            Attacker::PlainMember => Identity::user("plain member", &self.member),
            Attacker::RemovedMember => Identity::user("removed member", &self.removed_member),
            Attacker::ExpiredShareLink => Identity::anon(
                "anon with an expired share link",
                share(&self.share_token_expired),
            ),
            Attacker::RevokedShareLink => Identity::anon(
                "anon with a revoked share link",
                share(&self.share_token_revoked),
            ),
            Attacker::SignedInExpiredShareLink => Identity {
                headers: share(&self.share_token_expired),
                ..Identity::user("outsider with an expired share link", &self.outsider)
            },
            Attacker::SignedInRevokedShareLink => Identity {
                headers: share(&self.share_token_revoked),
                ..Identity::user("outsider with a revoked share link", &self.outsider)
            },
            Attacker::ValidShareLink => Identity::anon(
                "anon with a valid share link",
                share(&self.share_token_valid),
            ),
            Attacker::SignedInValidShareLink => Identity {
                headers: share(&self.share_token_valid),
                ..Identity::user("outsider with a valid share link", &self.outsider)
            },
            Attacker::RevokedApiKey => self.key("revoked API key", &self.api_key_revoked),
            Attacker::ExpiredApiKey => self.key("expired API key", &self.api_key_expired),
            Attacker::OtherTenantApiKey => {
                self.key("another tenant's API key", &self.api_key_other_tenant)
            }
            Attacker::ScopelessApiKey => {
                self.key("API key without the scope", &self.api_key_scopeless)
            }
        }
    }

    fn key(&self, label: &str, key_id: &str) -> Identity {
        Identity::api_key(label, key_id, &self.victim_tenant)
    }

    /// Whether this is the row the valid share-link token opens.
    pub fn is_shared_row(&self, row: &Value) -> bool {
        row_text(row, "id").as_deref() == Some(self.shared_row_id.as_str())
    }

    /// The legitimate actors a tag names, for this row: those whose access must succeed. None for
    /// `share` on a row the valid token does not open: there its holders are attackers.
    pub fn legitimate(&self, principal: &Principal, row: &Value) -> Result<Vec<Identity>, String> {
        Ok(vec![match principal {
            Principal::Anon => Identity::anon("anon", json!({})),
            Principal::Authenticated => Identity::user("user of another tenant", &self.outsider),
            Principal::Member => Identity::user("plain member", &self.member),
            Principal::Admin => match &self.admin {
                Some(admin) => Identity::user("admin", admin),
                None => Identity::user("owner", &self.owner),
            },
            Principal::Owner => Identity::user("owner", &self.owner),
            Principal::Creator(column) => {
                let creator = row_text(row, column)
                    .ok_or_else(|| format!("the row has no `{column}` to name its creator"))?;
                Identity::user("creator", &creator)
            }
            Principal::Share if self.is_shared_row(row) => {
                return Ok(vec![
                    self.attacker(Attacker::ValidShareLink),
                    self.attacker(Attacker::SignedInValidShareLink),
                ])
            }
            Principal::Share => return Ok(Vec::new()),
            // The live key holds every scope a tag can name here.
            Principal::ApiKey(_) => self.key("API key", &self.api_key_valid),
        }])
    }
}

/// A column of a row read as `to_jsonb`, as text (`->>` semantics); None when absent or null.
pub fn row_text(row: &Value, column: &str) -> Option<String> {
    match row.get(column)? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast() -> Cast {
        Cast {
            victim_tenant: "w".into(),
            owner: "o".into(),
            admin: None,
            member: "m".into(),
            outsider: "x".into(),
            removed_member: "r".into(),
            share_header: "x-share-token".into(),
            share_token_valid: "s".into(),
            shared_row_id: "n".into(),
            share_token_expired: "e".into(),
            share_token_revoked: "v".into(),
            api_key_valid: "k".into(),
            api_key_revoked: "kr".into(),
            api_key_expired: "ke".into(),
            api_key_scopeless: "ks".into(),
            api_key_other_tenant: "ko".into(),
        }
    }

    fn allowed_attackers(allowed: &[Principal], row: &Value) -> Vec<Attacker> {
        Attacker::ALL
            .into_iter()
            .filter(|a| a.is_allowed(allowed, row, &cast()))
            .collect()
    }

    #[test]
    fn only_what_the_tag_grants_exempts_an_attacker() {
        let row = json!({ "author_id": "m" });
        assert!(allowed_attackers(&[], &row).is_empty());
        assert!(allowed_attackers(&[Principal::Owner, Principal::Admin], &row).is_empty());
        assert!(
            allowed_attackers(&[Principal::Share], &row).is_empty(),
            "a token opens only its own row; a dead token opens nothing"
        );
        assert_eq!(
            allowed_attackers(&[Principal::Share], &json!({ "id": "n" })),
            [Attacker::ValidShareLink, Attacker::SignedInValidShareLink]
        );
        assert_eq!(
            allowed_attackers(&[Principal::Member], &row),
            [Attacker::PlainMember]
        );
        assert_eq!(
            allowed_attackers(&[Principal::Creator("author_id".into())], &row),
            [Attacker::PlainMember]
        );
        assert!(allowed_attackers(
            &[Principal::Creator("author_id".into())],
            &json!({ "author_id": "o" })
        )
        .is_empty());
        assert_eq!(
            allowed_attackers(&[Principal::Authenticated], &row),
            [
                Attacker::Outsider,
                Attacker::PlainMember,
                Attacker::RemovedMember,
                Attacker::SignedInExpiredShareLink,
                Attacker::SignedInRevokedShareLink,
                Attacker::SignedInValidShareLink,
            ]
        );
        assert_eq!(
            allowed_attackers(&[Principal::Anon], &row),
            [
                Attacker::Anon,
                Attacker::ExpiredShareLink,
                Attacker::RevokedShareLink,
                Attacker::ValidShareLink,
            ]
        );
    }

    #[test]
    fn key_attackers_are_never_allowed_and_claim_the_victim_and_every_scope() {
        let everything = [
            Principal::Anon,
            Principal::Authenticated,
            Principal::Member,
            Principal::Share,
            Principal::ApiKey("notes:read".into()),
        ];
        let row = json!({ "id": "n" });
        for attacker in [
            Attacker::RevokedApiKey,
            Attacker::ExpiredApiKey,
            Attacker::OtherTenantApiKey,
            Attacker::ScopelessApiKey,
        ] {
            assert!(
                !attacker.is_allowed(&everything, &row, &cast()),
                "{attacker:?}"
            );
            let identity = cast().attacker(attacker);
            assert_eq!(identity.claims["workspace_id"], "w");
            assert!(identity.claims.get("sub").is_none());
            assert_eq!(identity.claims["scopes"].as_array().unwrap().len(), 3);
        }
        let legit = cast()
            .legitimate(&Principal::ApiKey("notes:read".into()), &row)
            .unwrap();
        assert_eq!(legit[0].claims["api_key_id"], "k");
    }

    #[test]
    fn share_link_attackers_send_their_token_in_the_configured_header() {
        let identity = cast().attacker(Attacker::RevokedShareLink);
        assert_eq!(identity.role, "anon");
        assert_eq!(identity.headers, json!({ "x-share-token": "v" }));
        let holders = cast()
            .legitimate(&Principal::Share, &json!({ "id": "n" }))
            .unwrap();
        assert_eq!(holders.len(), 2);
        assert!(holders
            .iter()
            .all(|h| h.headers == json!({ "x-share-token": "s" })));
        assert!(cast()
            .legitimate(&Principal::Share, &json!({ "id": "other" }))
            .unwrap()
            .is_empty());
    }
}
