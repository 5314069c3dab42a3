//! The SPA journey of issue 8, driven by supabase-js (tests/spa_journey.mjs): A creates a
//! workspace, invites B (the token read from the e-mail stand-in's sent mail), B accepts, both
//! write notes, A shares one, an anonymous client reads it by token, A revokes it and the read
//! fails, A removes B and B's next call is refused, A deletes the workspace and restores it.

use libtest_mimic::Trial;

use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "journey: two users through workspaces, invitations, notes and share links (supabase-js)",
        journey,
    )]
}

fn journey() -> TestResult {
    let alice = TestUser::fresh("alice");
    let bob = TestUser::fresh("bob");
    let config = serde_json::json!({
        "url": format!("http://127.0.0.1:{}", var("LOCAL_FUNCTIONS_PORT")),
        "anonKey": access_token(var("SUPABASE_JWT_SECRET"), "anon", None, unix_now() + 600),
        "emailStandIn": email_standin_url(),
        "resendKey": var("RESEND_API_KEY"),
        "a": { "token": alice.token(), "aal2Token": alice.aal2_token(60) },
        "b": { "token": bob.token(), "email": bob.email, "id": bob.id },
    });
    let output = node_for_supabase_js()?
        .arg(repo_root().join("tests/spa_journey.mjs"))
        .arg(config.to_string())
        .output()?;
    let steps = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !steps.contains(r#"{"journey":"complete"}"#) {
        return Err(format!(
            "the journey stopped:\n{steps}{}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}
