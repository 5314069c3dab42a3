use serde::Serialize;

/// Why a request was not let through. `code` is stable (clients and tests match on it); `message`
/// is for people and never contains a secret, a token or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{status} {code}: {message}")]
pub struct Refusal {
    #[serde(skip)]
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

impl Refusal {
    pub const fn new(status: u16, code: &'static str, message: &'static str) -> Self {
        Self {
            status,
            code,
            message,
        }
    }

    pub const fn unauthenticated(code: &'static str, message: &'static str) -> Self {
        Self::new(401, code, message)
    }

    pub const fn forbidden(code: &'static str, message: &'static str) -> Self {
        Self::new(403, code, message)
    }

    pub const fn bad_request(code: &'static str, message: &'static str) -> Self {
        Self::new(400, code, message)
    }

    pub const fn payload_too_large(message: &'static str) -> Self {
        Self::new(413, "payload_too_large", message)
    }

    /// The body every refusal answers with: `{"error":{"code":"…","message":"…"}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_stable() {
        let r = Refusal::unauthenticated("missing_credentials", "no Authorization header");
        assert_eq!(
            r.to_json(),
            r#"{"error":{"code":"missing_credentials","message":"no Authorization header"}}"#
        );
        assert_eq!(r.status, 401);
    }
}
