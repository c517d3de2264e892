//! What one export run does: which segments, which list, which fields, which limits.

use constant_contact::api::PollPolicy;
use segsync_domain::FieldMapping;
use segsync_domain::segment::{RunClock, SegmentDefinition};
use uuid::Uuid;

/// Profiles one export may send, as in Customer Insights.
pub const DEFAULT_MEMBER_LIMIT: u64 = 1_000_000;

#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// The segments whose members are exported, in the order the report lists them.
    pub segments: Vec<SegmentDefinition>,
    /// Every segment the selected ones may refer to (the selected ones included).
    pub catalogue: Vec<SegmentDefinition>,
    pub mapping: FieldMapping,
    pub list_id: Uuid,
    /// An export whose segments hold more profiles than this is refused before sending.
    pub member_limit: u64,
    /// The time relative dates are counted from, and the time zone of calendar days.
    pub clock: RunClock,
    pub poll_policy: PollPolicy,
}

impl ExportPlan {
    pub fn new(
        segments: Vec<SegmentDefinition>,
        mapping: FieldMapping,
        list_id: Uuid,
        clock: RunClock,
    ) -> Self {
        Self {
            catalogue: segments.clone(),
            segments,
            mapping,
            list_id,
            member_limit: DEFAULT_MEMBER_LIMIT,
            clock,
            poll_policy: PollPolicy::default(),
        }
    }

    pub fn with_catalogue(mut self, catalogue: Vec<SegmentDefinition>) -> Self {
        self.catalogue = catalogue;
        self
    }

    pub fn with_member_limit(mut self, member_limit: u64) -> Self {
        self.member_limit = member_limit;
        self
    }

    pub fn with_poll_policy(mut self, poll_policy: PollPolicy) -> Self {
        self.poll_policy = poll_policy;
        self
    }
}
