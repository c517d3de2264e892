//! Where a run stands, and what started it.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Skipped,
    /// Stopped cleanly when it reached the longest a run may take, after its batch in flight.
    TimedOut,
    /// A guard stopped it before it sent anything (see `removal_guard`): it holds its export
    /// until a person confirms it (it is queued again) or discards it (it ends Cancelled).
    AwaitingConfirmation,
}

impl RunStatus {
    pub const ALL: [Self; 8] = [
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
        Self::Skipped,
        Self::TimedOut,
        Self::AwaitingConfirmation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
            Self::TimedOut => "timed_out",
            Self::AwaitingConfirmation => "awaiting_confirmation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Queued, running, or awaiting a person's confirmation: the export's one run of the moment.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::Queued | Self::Running | Self::AwaitingConfirmation
        )
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    RunAll,
    Schedule,
    /// The sources the export reads changed, and settled.
    OnChange,
    /// A pipeline said a source changed (`POST /api/v1/triggers/source-changed`).
    Pipeline,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::RunAll => "run_all",
            Self::Schedule => "schedule",
            Self::OnChange => "on_change",
            Self::Pipeline => "pipeline",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Manual,
            Self::RunAll,
            Self::Schedule,
            Self::OnChange,
            Self::Pipeline,
        ]
        .into_iter()
        .find(|trigger| trigger.as_str() == text)
    }
}

/// What a run is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunPurpose {
    /// Keeps the list in step with the segments (and reads it back after, when the export
    /// says so).
    #[default]
    Sync,
    /// Only reads the list back and corrects the ledger; sends nothing.
    Verify,
}

impl RunPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Verify => "verify",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Sync, Self::Verify]
            .into_iter()
            .find(|purpose| purpose.as_str() == text)
    }
}
