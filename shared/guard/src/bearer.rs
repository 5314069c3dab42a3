use crate::Refusal;

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750).
pub(crate) fn bearer_token(authorization: Option<&str>) -> Result<&str, Refusal> {
    let header = authorization.ok_or(Refusal::unauthenticated(
        "missing_credentials",
        "an Authorization: Bearer header is required",
    ))?;
    let malformed = Refusal::unauthenticated(
        "malformed_credentials",
        "the Authorization header must be 'Bearer <token>'",
    );
    let (scheme, token) = header.trim().split_once(' ').ok_or(malformed.clone())?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_case_of_the_scheme() {
        assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Ok("abc"));
    }

    #[test]
    fn refuses_missing_and_malformed_headers() {
        assert_eq!(bearer_token(None).unwrap_err().code, "missing_credentials");
        for bad in ["", "Bearer", "Bearer ", "Basic abc", "abc"] {
            assert_eq!(
                bearer_token(Some(bad)).unwrap_err().code,
                "malformed_credentials",
                "{bad:?}"
            );
        }
    }
}
