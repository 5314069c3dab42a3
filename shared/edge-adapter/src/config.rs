use worker::Env;

use crate::ApiError;

/// A secret that must be present (locally it comes from the function's .dev.vars).
pub(crate) fn required_secret(env: &Env, name: &'static str) -> Result<String, ApiError> {
    env.secret(name)
        .map(|s| s.to_string())
        .ok()
        .filter(|s| !s.trim().is_empty())
        .ok_or(ApiError::NotConfigured(name))
}

/// A comma-separated list of secrets: the current one first, then any still accepted during a
/// rotation.
pub(crate) fn secret_list(env: &Env, name: &'static str) -> Result<Vec<String>, ApiError> {
    Ok(required_secret(env, name)?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect())
}

/// An optional number from a var; a present but unparsable value is a configuration error.
pub fn optional_number<T: std::str::FromStr>(
    env: &Env,
    name: &'static str,
) -> Result<Option<T>, ApiError> {
    match env.var(name) {
        Ok(value) => value
            .to_string()
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::NotConfigured(name)),
        Err(_) => Ok(None),
    }
}

/// An optional text var (empty counts as absent).
pub(crate) fn optional_text(env: &Env, name: &'static str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.trim().is_empty())
}
