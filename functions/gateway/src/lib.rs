//! The gateway: `/functions/v1/<name>[/…]` goes, unchanged, to the function bound as service
//! `<NAME>` (upper case, `-` as `_`) in the root wrangler.toml. It authenticates nobody: every
//! function runs its own guard, so a function is equally safe reached directly.

use edge_adapter::{respond, ApiError};
use edge_guard::Refusal;
use worker::{event, Context, Env, Request, Response};

const PREFIX: &str = "/functions/v1/";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let Some(binding) = binding_for_path(&req.path()) else {
        return respond(Err(not_found()));
    };
    match env.service(&binding) {
        Ok(function) => function.fetch_request(req).await,
        Err(_) => respond(Err(not_found())),
    }
}

fn not_found() -> ApiError {
    Refusal::new(
        404,
        "function_not_found",
        "no function is served at this path",
    )
    .into()
}

/// `/functions/v1/paddle-webhook/x` → `PADDLE_WEBHOOK`. Function names are lower-case letters,
/// digits and `-`; anything else is not a function (the gateway has no other bindings anyway).
fn binding_for_path(path: &str) -> Option<String> {
    let name = path.strip_prefix(PREFIX)?.split('/').next()?;
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then(|| name.to_ascii_uppercase().replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::binding_for_path;

    #[test]
    fn maps_function_paths_to_bindings() {
        assert_eq!(
            binding_for_path("/functions/v1/notes").as_deref(),
            Some("NOTES")
        );
        assert_eq!(
            binding_for_path("/functions/v1/paddle-webhook/extra").as_deref(),
            Some("PADDLE_WEBHOOK")
        );
    }

    #[test]
    fn refuses_other_paths_and_names() {
        for path in [
            "/",
            "/functions/v1/",
            "/functions/v2/notes",
            "/functions/v1/DB",
            "/functions/v1/a_b",
            "/functions/v1/%2e%2e",
        ] {
            assert_eq!(binding_for_path(path), None, "{path}");
        }
    }
}
