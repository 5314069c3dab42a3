//! What a user route demands of its caller, declared once per route (see `edge_adapter::serve!`).

use crate::principal::{Aal, DbRole};

/// Which tokens a user route accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRequirement {
    /// Accepted `role` claims.
    pub roles: &'static [DbRole],
    /// Refuse (403 `insufficient_aal`) unless a second factor was verified in this session.
    pub aal2: bool,
    /// Refuse (403 `reauthentication_required`) unless the newest sign-in (`amr`) is this recent.
    pub max_sign_in_age_secs: Option<u64>,
}

impl UserRequirement {
    /// A signed-in user (role `authenticated`), any assurance level.
    pub const SIGNED_IN: Self = Self {
        roles: &[DbRole::Authenticated],
        aal2: false,
        max_sign_in_age_secs: None,
    };

    pub const fn with_roles(self, roles: &'static [DbRole]) -> Self {
        Self { roles, ..self }
    }

    /// For actions that need the second factor (Supabase's `aal2`).
    pub const fn with_aal2(self) -> Self {
        Self { aal2: true, ..self }
    }

    /// For sensitive actions: the user must have signed in within `secs`.
    pub const fn with_recent_sign_in(self, secs: u64) -> Self {
        Self {
            max_sign_in_age_secs: Some(secs),
            ..self
        }
    }

    pub(crate) fn minimum_aal(&self) -> Aal {
        if self.aal2 {
            Aal::Aal2
        } else {
            Aal::Aal1
        }
    }
}
