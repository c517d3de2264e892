//! Why an export did not start. Once sending has begun, failures end up in the run report
//! instead, with what was sent.

use segsync_engine::EngineError;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Profiles(#[from] EngineError),

    /// The segments' own query could not be carried out (by the engine or a cluster): named,
    /// unlike a failure of the source.
    #[error("the segments {}: {error}", segments.iter().map(|name| format!("{name:?}")).collect::<Vec<_>>().join(", "))]
    SegmentsQuery {
        segments: Vec<String>,
        error: Box<EngineError>,
    },

    #[error(
        "the selected segments hold {members} profiles, over the limit of {limit} per export; nothing was sent. Narrow the segments or raise the limit"
    )]
    OverLimit { members: u64, limit: u64 },

    #[error("Constant Contact has no list {list_id}; check the List ID")]
    ListNotFound { list_id: Uuid },

    #[error(
        "the data matching fills custom fields the Constant Contact account does not have: {}; nothing was sent. Create them in Constant Contact or change the data matching",
        names.iter().map(|name| format!("cf:{name}")).collect::<Vec<_>>().join(", ")
    )]
    CustomFieldsMissing { names: Vec<String> },

    #[error("an export needs at least one segment")]
    NoSegments,

    #[error(
        "sending {members} contacts needs at least {needed} requests and only {left} are left today for this API key; nothing was sent. The quota resets at midnight UTC"
    )]
    OverQuota {
        members: u64,
        needed: u64,
        left: u64,
    },

    /// A mirror run's guard stopped it before it sent anything; a person must confirm it.
    #[error(
        "a guard stopped the run before it sent anything: {0}; an admin or the export's manager must confirm the removals or discard the run"
    )]
    NeedsConfirmation(Box<segsync_domain::GuardStop>),

    /// The file of a list read back could not be read.
    #[error("reading the list back: {0}")]
    ReadBack(String),

    #[error("recording the run")]
    Checkpoints(#[from] crate::checkpoints::CheckpointError),

    #[error("Constant Contact")]
    ConstantContact(#[from] constant_contact::Error),
}
