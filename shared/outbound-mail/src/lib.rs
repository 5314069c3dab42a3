//! The e-mails the platform sends, and each one as the body of Resend's `POST /emails`
//! (<https://resend.com/docs/api-reference/emails/send-email>): `from`, `to` (an array), `subject`
//! and `text`. Plain text only: the workspace name and the inviter's display name are user input,
//! and a text body cannot carry markup into the invitee's mail client.

use serde_json::json;

/// Resend's API when `RESEND_API_URL` is not set.
pub const DEFAULT_RESEND_API_URL: &str = "https://api.resend.com";

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Sent as `Idempotency-Key`: a retried request is delivered once.
    pub idempotency_key: String,
}

impl Email {
    /// The JSON body of `POST /emails`.
    pub fn resend_body(&self) -> String {
        json!({
            "from": self.from,
            "to": [self.to],
            "subject": self.subject,
            "text": self.text,
        })
        .to_string()
    }
}

/// `<base>/emails`, whether or not the configured base ends with a slash.
pub fn resend_emails_url(base: &str) -> String {
    format!("{}/emails", base.trim_end_matches('/'))
}

/// What an invitation e-mail says.
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    pub id: &'a str,
    pub to: &'a str,
    pub workspace_name: &'a str,
    pub inviter_name: Option<&'a str>,
    pub role: &'a str,
    pub expires_at: &'a str,
    pub token: &'a str,
}

/// The invitation e-mail, sent from `from`, whose link opens the SPA's `accept_url` with the
/// token in the fragment (`#token=…`): a fragment never reaches a server log or a Referer header.
pub fn invitation_email(from: &str, accept_url: &str, invitation: &Invitation<'_>) -> Email {
    let inviter = invitation.inviter_name.unwrap_or("A workspace owner");
    let subject: String = format!("You are invited to {}", invitation.workspace_name)
        .chars()
        .take(200)
        .collect();
    Email {
        from: from.to_owned(),
        to: invitation.to.to_owned(),
        subject,
        text: format!(
            "{inviter} invited you to join the workspace \"{}\" as {}.\n\n\
             Accept the invitation (sign in with this e-mail address first):\n{}\n\n\
             The link works once and expires at {} (UTC).\n\
             Invitation token, if you need to paste it: {}\n",
            invitation.workspace_name,
            invitation.role,
            accept_link(accept_url, invitation.token),
            invitation.expires_at,
            invitation.token,
        ),
        idempotency_key: format!("invitation-{}", invitation.id),
    }
}

fn accept_link(accept_url: &str, token: &str) -> String {
    format!(
        "{}#token={token}",
        accept_url.split('#').next().unwrap_or(accept_url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation() -> Invitation<'static> {
        Invitation {
            id: "c4000000-0000-4000-8000-000000000001",
            to: "b@example.com",
            workspace_name: "Acme <script>",
            inviter_name: Some("Ada"),
            role: "member",
            expires_at: "2026-12-08 10:00:00+00",
            token: "0123abcd",
        }
    }

    #[test]
    fn the_resend_body_has_exactly_the_documented_fields() {
        let email = invitation_email(
            "Acme <invites@acme.test>",
            "https://app.test/accept",
            &invitation(),
        );
        let body: serde_json::Value = serde_json::from_str(&email.resend_body()).unwrap();
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["from", "subject", "text", "to"]);
        assert_eq!(body["to"], json!(["b@example.com"]));
        assert_eq!(body["from"], "Acme <invites@acme.test>");
        assert_eq!(body["subject"], "You are invited to Acme <script>");
    }

    #[test]
    fn the_link_carries_the_token_in_the_fragment() {
        let email = invitation_email("f@x.test", "https://app.test/accept#old", &invitation());
        assert!(email
            .text
            .contains("https://app.test/accept#token=0123abcd\n"));
        assert!(email.text.contains("Ada invited you"));
        assert_eq!(
            email.idempotency_key,
            "invitation-c4000000-0000-4000-8000-000000000001"
        );
    }

    #[test]
    fn the_emails_url_joins_cleanly() {
        assert_eq!(
            resend_emails_url("https://api.resend.com"),
            "https://api.resend.com/emails"
        );
        assert_eq!(
            resend_emails_url("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/emails"
        );
    }
}
