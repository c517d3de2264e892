//! What an API token may do: everything its user's role allows (`full`), only read (`read`), or
//! only tell segsync that a source changed and follow the runs that started (`trigger`) — the
//! token a pipeline holds.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    #[default]
    Full,
    Read,
    Trigger,
}

/// The path a trigger token posts to.
pub const TRIGGER_PATH: &str = "/api/v1/triggers/source-changed";

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Read => "read",
            Self::Trigger => "trigger",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Full, Self::Read, Self::Trigger]
            .into_iter()
            .find(|scope| scope.as_str() == text)
    }

    /// Whether a request of `method` (`GET`, `POST`, …) to `path` is within the scope; the
    /// role is checked after, as for any caller.
    pub fn allows(self, method: &str, path: &str) -> bool {
        let reads = matches!(method, "GET" | "HEAD");
        match self {
            Self::Full => true,
            Self::Read => reads,
            Self::Trigger => {
                (method == "POST" && path == TRIGGER_PATH)
                    || (reads
                        && path
                            .strip_prefix("/api/v1/runs/")
                            .is_some_and(|id| !id.is_empty() && !id.contains('/')))
            }
        }
    }

    /// What the scope allows, for a refusal.
    pub fn says(self) -> &'static str {
        match self {
            Self::Full => "everything its user's role allows",
            Self::Read => "only reading",
            Self::Trigger => {
                "only POST /api/v1/triggers/source-changed and reading a run (GET /api/v1/runs/{id})"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_token_triggers_and_reads_runs_and_nothing_else() {
        let trigger = TokenScope::Trigger;
        assert!(trigger.allows("POST", TRIGGER_PATH));
        assert!(trigger.allows("GET", "/api/v1/runs/5f0c"));
        for (method, path) in [
            ("GET", "/api/v1/runs"),
            ("GET", "/api/v1/runs/5f0c/skipped.csv"),
            ("GET", "/api/v1/exports"),
            ("POST", "/api/v1/exports/5f0c/run"),
            ("GET", TRIGGER_PATH),
        ] {
            assert!(!trigger.allows(method, path), "{method} {path}");
        }
        assert!(TokenScope::Read.allows("GET", "/api/v1/exports"));
        assert!(!TokenScope::Read.allows("POST", TRIGGER_PATH));
        assert!(TokenScope::Full.allows("DELETE", "/api/v1/exports/5f0c"));
        assert_eq!(TokenScope::parse("trigger"), Some(TokenScope::Trigger));
        assert_eq!(TokenScope::parse("admin"), None);
    }
}
