//! The cron secret: the only way to start a scheduled job over HTTP.

use crate::principal::CronCaller;
use crate::webhook::SharedSecrets;
use crate::Refusal;

/// The accepted cron secrets: the current one and, during a rotation, the previous one.
pub struct CronSecrets {
    secrets: SharedSecrets,
}

/// Shorter secrets are refused at configuration time: they are guessable.
const MIN_SECRET_LEN: usize = 16;

impl CronSecrets {
    /// `None` when no usable secret is configured: the caller must then refuse to serve.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        Some(Self {
            secrets: SharedSecrets::new(secrets, MIN_SECRET_LEN)?,
        })
    }

    /// Checks the `X-Cron-Secret` header value against every configured secret in constant time.
    pub fn verify(&self, presented: Option<&str>) -> Result<CronCaller, Refusal> {
        let presented = presented
            .ok_or(Refusal::unauthenticated(
                "missing_credentials",
                "the X-Cron-Secret header is required",
            ))?
            .as_bytes();
        if self.secrets.matches(presented) {
            Ok(CronCaller::from_http_secret())
        } else {
            Err(Refusal::unauthenticated(
                "invalid_cron_secret",
                "the cron secret does not match",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = "current-cron-secret-0001";
    const PREVIOUS: &str = "previous-cron-secret-0002";

    #[test]
    fn accepts_current_and_previous_secret() {
        let secrets = CronSecrets::new([CURRENT, PREVIOUS]).unwrap();
        assert!(secrets.verify(Some(CURRENT)).is_ok());
        assert!(secrets.verify(Some(PREVIOUS)).is_ok());
    }

    #[test]
    fn refuses_missing_wrong_and_prefix_secrets() {
        let secrets = CronSecrets::new([CURRENT]).unwrap();
        assert_eq!(
            secrets.verify(None).unwrap_err().code,
            "missing_credentials"
        );
        for wrong in [
            "",
            "current-cron-secret-000",
            "current-cron-secret-00012",
            PREVIOUS,
        ] {
            assert_eq!(
                secrets.verify(Some(wrong)).unwrap_err().code,
                "invalid_cron_secret",
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn refuses_to_configure_without_a_strong_secret() {
        assert!(CronSecrets::new(["short", "  "]).is_none());
        assert!(CronSecrets::new([]).is_none());
    }
}
