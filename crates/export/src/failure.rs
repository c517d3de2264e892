//! Why an export failed once it had begun sending. The cause is kept (Constant Contact's error,
//! the store's), so that a caller can act on it — wait for the quota's reset, ask for
//! re-authentication, stop a run that was taken over — and its text, derived here and nowhere
//! else, is the reason reports and the API show.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use constant_contact::Error as ClientError;
use segsync_engine::EngineError;
use uuid::Uuid;

use crate::checkpoints::CheckpointError;
use crate::report::ActivityState;

/// What the run was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    ReadingListMembers,
    BuildingImports,
    RecordingPlannedImport,
    SendingImport {
        contacts: usize,
    },
    RecordingAcceptedImport,
    RecordingRefusedImport,
    SplittingRefusedImport,
    PollingImports,
    RecordingImportEnds,
    RemovingLeavers,
    /// Asking Constant Contact for the opt-outs since the last time, before sending.
    ReadingOptOuts,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ReadingListMembers => f.write_str("reading the list's members"),
            Self::BuildingImports => f.write_str("building the imports"),
            Self::RecordingPlannedImport => f.write_str("recording an import before sending it"),
            Self::SendingImport { contacts } => {
                write!(f, "sending an import of {contacts} contacts")
            }
            Self::RecordingAcceptedImport => f.write_str("recording an accepted import"),
            Self::RecordingRefusedImport => f.write_str("recording a refused import"),
            Self::SplittingRefusedImport => f.write_str("splitting a refused import"),
            Self::PollingImports => f.write_str("polling the imports"),
            Self::RecordingImportEnds => f.write_str("recording the imports' ends"),
            Self::RemovingLeavers => f.write_str("removing members who left the segments"),
            Self::ReadingOptOuts => f.write_str("reading the opt-outs since the last run"),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ExportFailure {
    /// Constant Contact (or the way to it) failed a request.
    #[error("{step}")]
    ConstantContact {
        step: Step,
        #[source]
        source: Arc<ClientError>,
    },
    /// A checkpoint could not be stored.
    #[error("{step}")]
    Checkpoint {
        step: Step,
        #[source]
        source: CheckpointError,
    },
    /// The profiles could not be read to the end.
    #[error(transparent)]
    Profiles(Arc<EngineError>),
    /// Constant Contact ended some imports other than completed.
    #[error(
        "{unfinished} of {total} imports did not complete (activity {activity_id} ended {state})"
    )]
    ImportsIncomplete {
        unfinished: usize,
        total: usize,
        activity_id: Uuid,
        state: ActivityState,
    },
    /// Constant Contact ended a removal from the list other than completed.
    #[error(
        "{}: the removal activity {activity_id} ended {state}",
        Step::RemovingLeavers
    )]
    RemovalIncomplete {
        activity_id: Uuid,
        state: ActivityState,
    },
}

impl ExportFailure {
    pub(crate) fn client(step: Step, error: ClientError) -> Self {
        Self::ConstantContact {
            step,
            source: Arc::new(error),
        }
    }

    pub(crate) fn checkpoint(step: Step, error: CheckpointError) -> Self {
        Self::Checkpoint {
            step,
            source: error,
        }
    }

    /// Constant Contact's error, when it was one.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            Self::ConstantContact { source, .. } => Some(source),
            _ => None,
        }
    }

    /// When the API key's daily quota resets, when the run failed because it ran out.
    pub fn quota_resets_at(&self) -> Option<DateTime<Utc>> {
        match self.client_error() {
            Some(ClientError::QuotaExceeded { resets_at }) => Some(*resets_at),
            _ => None,
        }
    }

    /// Whether the run stopped because another worker took it over.
    pub fn claim_lost(&self) -> bool {
        matches!(
            self,
            Self::Checkpoint {
                source: CheckpointError::ClaimLost,
                ..
            }
        )
    }
}
