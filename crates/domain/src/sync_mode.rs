//! An export's sync mode: what its runs do with the list.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a run does with the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Members are added or updated; nobody is ever removed.
    #[default]
    AddOnly,
    /// As add-only, and members who left the segments are removed from the list — only those
    /// this export added itself.
    Mirror,
    /// Only contacts already on the list are updated; nobody is added.
    UpdateOnly,
}

impl SyncMode {
    pub const ALL: [Self; 3] = [Self::AddOnly, Self::Mirror, Self::UpdateOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddOnly => "add_only",
            Self::Mirror => "mirror",
            Self::UpdateOnly => "update_only",
        }
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| {
                format!("unknown sync mode {text:?}; use add_only, mirror or update_only")
            })
    }
}
