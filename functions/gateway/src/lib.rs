//! The gateway: `/functions/v1/<name>[/…]` goes, unchanged, to the function bound as service
//! `<NAME>` (upper case, `-` as `_`) in the root wrangler.toml.

use edge_adapter::{ApiError, Call, Reply};
use edge_guard::{PublicEndpoint, Refusal};

edge_adapter::serve! {
    routes {
        ANY "/*" => public(
            "routing only: every function behind it runs its own declared guard, so a function \
             is equally safe reached directly"
        ) => forward,
    }
}

async fn forward(call: Call<PublicEndpoint>) -> Result<Reply, ApiError> {
    let binding = binding_for_path(&call.req.path()).ok_or_else(not_found)?;
    let function = call.env.service(&binding).map_err(|_| not_found())?;
    let response = function
        .fetch_request(call.req)
        .await
        .map_err(|_| ApiError::Upstream("the function behind the gateway"))?;
    Ok(Reply::Forwarded(response))
}

fn not_found() -> ApiError {
    Refusal::new(
        404,
        "function_not_found",
        "no function is served at this path",
    )
    .into()
}

const PREFIX: &str = "/functions/v1/";

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
