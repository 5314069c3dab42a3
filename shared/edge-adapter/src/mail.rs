//! Sending e-mail through Resend's HTTP API (`POST <RESEND_API_URL>/emails`, Bearer
//! `RESEND_API_KEY`). Locally `RESEND_API_URL` points at the stand-in ci/dev starts
//! (ci/email-standin.mjs), which checks each request against Resend's documented contract.

use breaker_policy::Provider;
use outbound_mail::{
    invitation_email, resend_emails_url, Email, Invitation, DEFAULT_RESEND_API_URL,
};
use rls_db::invitations::NewInvitation;
use worker::{Env, Method};

use crate::config::{optional_text, required_secret};
use crate::upstream::{call, provider_request};
use crate::ApiError;

const PROVIDER: &str = "the e-mail provider";

/// Mails `invitation` to the invitee. Vars: EMAIL_FROM (the sender, e.g.
/// `Acme <invites@acme.com>`), INVITATION_ACCEPT_URL (the SPA page that accepts; the token goes
/// in its fragment), RESEND_API_URL (optional); secret: RESEND_API_KEY.
pub async fn send_invitation(env: &Env, invitation: &NewInvitation) -> Result<(), ApiError> {
    let from = optional_text(env, "EMAIL_FROM").ok_or(ApiError::NotConfigured("EMAIL_FROM"))?;
    let accept_url = optional_text(env, "INVITATION_ACCEPT_URL")
        .ok_or(ApiError::NotConfigured("INVITATION_ACCEPT_URL"))?;
    let email = invitation_email(
        &from,
        &accept_url,
        &Invitation {
            id: &invitation.id,
            to: &invitation.email,
            workspace_name: &invitation.workspace_name,
            inviter_name: invitation.inviter_name.as_deref(),
            role: &invitation.role,
            expires_at: &invitation.expires_at,
            token: &invitation.token,
        },
    );
    send(env, &email).await
}

/// One `POST /emails` through the e-mail provider's circuit breaker; anything but a 2xx answer
/// is 503 `upstream_unavailable` for the caller (logged with the provider's status, never the
/// message or the key).
async fn send(env: &Env, email: &Email) -> Result<(), ApiError> {
    let key = required_secret(env, "RESEND_API_KEY")?;
    let base =
        optional_text(env, "RESEND_API_URL").unwrap_or_else(|| DEFAULT_RESEND_API_URL.into());
    let request = provider_request(
        Method::Post,
        &resend_emails_url(&base),
        &key,
        Some(&email.resend_body()),
        &[("idempotency-key", &email.idempotency_key)],
        PROVIDER,
    )?;
    let status = call(env, Provider::Email, PROVIDER, request).await?.status;
    if !(200..300).contains(&status) {
        worker::console_error!("e-mail provider answered {status}");
        return Err(ApiError::Upstream(PROVIDER));
    }
    Ok(())
}
