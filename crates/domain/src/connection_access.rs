//! Who may use a connection to Constant Contact, and whether it can be used now.

use serde::{Deserialize, Serialize};

/// Who may use a connection in exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsableBy {
    Admins,
    AdminsAndContributors,
}

impl UsableBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admins => "admins",
            Self::AdminsAndContributors => "admins_and_contributors",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admins" => Some(Self::Admins),
            "admins_and_contributors" => Some(Self::AdminsAndContributors),
            _ => None,
        }
    }
}

/// Whether a connection can be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Saved, but nobody has authenticated it with Constant Contact yet.
    NotAuthenticated,
    Healthy,
    /// Constant Contact refused its refresh token (`invalid_grant`): an admin must
    /// authenticate again.
    NeedsReauthentication,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAuthenticated => "not_authenticated",
            Self::Healthy => "healthy",
            Self::NeedsReauthentication => "needs_reauthentication",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "not_authenticated" => Some(Self::NotAuthenticated),
            "healthy" => Some(Self::Healthy),
            "needs_reauthentication" => Some(Self::NeedsReauthentication),
            _ => None,
        }
    }
}
