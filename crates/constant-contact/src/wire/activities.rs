//! `Activity`, `ActivityImport`, `ActivityListsMembership` and their `status` counters.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The life of a bulk activity: `initialized` → `processing` → a terminal state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ActivityState {
    Initialized,
    Processing,
    Completed,
    Cancelled,
    Failed,
    TimedOut,
    /// A state this client does not know yet; treated as still running.
    #[serde(other)]
    Unknown,
}

impl ActivityState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Cancelled | Self::Failed | Self::TimedOut
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initialized => "initialized",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Unknown => "unknown",
        }
    }
}

/// The counters of an activity. Import activities fill the person counters, list-membership
/// activities `list_count`; every counter is optional on the wire and zero when absent.
impl std::fmt::Display for ActivityState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActivityStatus {
    #[serde(default)]
    pub items_total_count: u64,
    #[serde(default)]
    pub items_completed_count: u64,
    /// Contacts in the import.
    #[serde(default)]
    pub person_count: u64,
    /// Rows that could not be imported and cannot be corrected.
    #[serde(default)]
    pub error_count: u64,
    /// Rows with an invalid email, birthday or anniversary, or without minimal information.
    #[serde(default)]
    pub correctable_count: u64,
    /// Previously unsubscribed contacts, which are never added to a list by an import.
    #[serde(default)]
    pub cannot_add_to_list_count: u64,
    #[serde(default)]
    pub list_count: u64,
}

/// `activity_errors` is an array of strings for imports and of `{message}` objects for other
/// activity types; both are read as text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ActivityErrorEntry {
    Text(String),
    Object { message: String },
}

impl ActivityErrorEntry {
    pub fn message(&self) -> &str {
        match self {
            Self::Text(message) | Self::Object { message } => message,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Activity {
    pub activity_id: Uuid,
    pub state: ActivityState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub percent_done: u8,
    #[serde(default)]
    pub activity_errors: Vec<ActivityErrorEntry>,
    #[serde(default)]
    pub status: ActivityStatus,
    #[serde(
        default,
        rename = "_links",
        skip_serializing_if = "ActivityLinks::is_empty"
    )]
    pub links: ActivityLinks,
}

impl Activity {
    /// The `file_export_id` of a completed contact export: the last part of
    /// `_links.results.href`.
    pub fn file_export_id(&self) -> Option<&str> {
        let href = self.links.results.as_ref()?.href.as_str();
        let id = href.split('?').next()?.rsplit('/').next()?;
        (!id.is_empty()).then_some(id)
    }
}

/// `_links` of an activity: `results` names the file of a completed contact export.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActivityLinks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Link>,
}

impl ActivityLinks {
    fn is_empty(&self) -> bool {
        self.results.is_none()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Link {
    pub href: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ActivityPage {
    #[serde(default)]
    pub activities: Vec<Activity>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_activity_error_shapes_and_unknown_states() {
        let json = r#"{"activity_id":"86b90820-cc52-11ea-9dad-fa163e3d9194","state":"paused",
            "activity_errors":["one", {"message":"two"}],
            "status":{"person_count":2,"correctable_count":1}}"#;
        let activity: Activity = serde_json::from_str(json).unwrap();
        assert_eq!(activity.state, ActivityState::Unknown);
        assert!(!activity.state.is_terminal());
        let messages: Vec<_> = activity
            .activity_errors
            .iter()
            .map(|e| e.message())
            .collect();
        assert_eq!(messages, ["one", "two"]);
        assert_eq!(activity.status.person_count, 2);
        assert_eq!(activity.status.cannot_add_to_list_count, 0);
    }
}
