//! What one export run does: which segments, which list, which fields, which limits.

use constant_contact::api::PollPolicy;
use segsync_domain::segment::{RunClock, SegmentDefinition};
use segsync_domain::{FieldMapping, GuardStop, RemovalGuards, RunFacts};
use uuid::Uuid;

use crate::sync::SyncMode;

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
    pub mode: SyncMode,
    /// Send every member, changed or not (those known unsubscribed excepted).
    pub full_resync: bool,
    /// Mirror mode's guards and what they compare with.
    pub guard: GuardPlan,
    /// Addresses never sent, whatever the segments hold.
    pub exclusions: std::sync::Arc<crate::exclusions::Exclusions>,
}

/// What a mirror run's guards judge it against: the export's guards, the segments' members at
/// its last successful run, and the removals a person confirmed for this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardPlan {
    pub guards: RemovalGuards,
    pub members_before: Option<u64>,
    pub confirmed_removals: Option<u64>,
}

impl GuardPlan {
    /// The guards `facts` trip, unless a person confirmed the removals planned; what a run and
    /// a dry run both judge by.
    pub(crate) fn judge(&self, facts: &RunFacts) -> Option<GuardStop> {
        self.guards.judge(facts, self.confirmed_removals)
    }
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
            mode: SyncMode::default(),
            full_resync: false,
            guard: GuardPlan::default(),
            exclusions: std::sync::Arc::default(),
        }
    }

    pub fn with_exclusions(
        mut self,
        exclusions: std::sync::Arc<crate::exclusions::Exclusions>,
    ) -> Self {
        self.exclusions = exclusions;
        self
    }

    pub fn with_guard(mut self, guard: GuardPlan) -> Self {
        self.guard = guard;
        self
    }

    /// The removals a person confirmed for the run: it may remove up to as many.
    pub fn with_confirmed_removals(mut self, confirmed_removals: Option<u64>) -> Self {
        self.guard.confirmed_removals = confirmed_removals;
        self
    }

    /// The segments' members at the export's last successful run, which the member-drop guard
    /// compares with.
    pub fn with_members_before(mut self, members_before: Option<u64>) -> Self {
        self.guard.members_before = members_before;
        self
    }

    pub fn with_catalogue(mut self, catalogue: Vec<SegmentDefinition>) -> Self {
        self.catalogue = catalogue;
        self
    }

    pub fn with_member_limit(mut self, member_limit: u64) -> Self {
        self.member_limit = member_limit;
        self
    }

    pub fn with_mode(mut self, mode: SyncMode) -> Self {
        self.mode = mode;
        self
    }

    pub fn with_full_resync(mut self, full_resync: bool) -> Self {
        self.full_resync = full_resync;
        self
    }

    pub fn with_poll_policy(mut self, poll_policy: PollPolicy) -> Self {
        self.poll_policy = poll_policy;
        self
    }
}

impl ExportPlan {
    /// Each selected segment's membership over `profiles`, in order: what a run and a dry run
    /// both start from.
    pub(crate) fn segment_exprs(
        &self,
        profiles: &segsync_engine::Profiles,
    ) -> Result<Vec<(String, segsync_engine::Membership)>, crate::ExportError> {
        if self.segments.is_empty() {
            return Err(crate::ExportError::NoSegments);
        }
        self.segments
            .iter()
            .map(|segment| {
                Ok((
                    segment.name.clone(),
                    profiles.segment_expr(segment, &self.catalogue, &self.clock)?,
                ))
            })
            .collect()
    }

    /// Asks Constant Contact for the list (with its member count): a clear error when it does
    /// not exist.
    pub(crate) async fn check_list(
        &self,
        client: &constant_contact::ConstantContact,
    ) -> Result<constant_contact::ContactList, crate::ExportError> {
        match client.get_list(self.list_id).await {
            Ok(list) => Ok(list),
            Err(constant_contact::Error::Rejected { status: 404, .. }) => {
                Err(crate::ExportError::ListNotFound {
                    list_id: self.list_id,
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Checks that every custom field the mapping fills exists in the account: a clear error
    /// before anything is sent when one was deleted or renamed.
    pub(crate) async fn check_custom_fields(
        &self,
        client: &constant_contact::ConstantContact,
    ) -> Result<(), crate::ExportError> {
        let missing = missing_custom_fields(client, &self.mapping).await?;
        if missing.is_empty() {
            Ok(())
        } else {
            Err(crate::ExportError::CustomFieldsMissing { names: missing })
        }
    }
}

/// Asks Constant Contact for the account's custom fields (one request, none when the mapping
/// fills no custom field) and names those the mapping fills that the account does not have:
/// Constant Contact would refuse every contact of an import that sets them.
pub async fn missing_custom_fields(
    client: &constant_contact::ConstantContact,
    mapping: &FieldMapping,
) -> Result<Vec<String>, constant_contact::Error> {
    let wanted = mapping.custom_fields();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let existing = client.custom_fields().await?;
    Ok(wanted
        .into_iter()
        .filter(|name| !existing.iter().any(|field| field.name == *name))
        .map(str::to_owned)
        .collect())
}

/// How many profiles there are, and how many are in any of `segments`.
pub(crate) async fn count_profiles(
    profiles: &segsync_engine::Profiles,
    segments: &[(String, segsync_engine::Membership)],
) -> Result<(u64, u64), crate::ExportError> {
    let read = profiles.count_all().await?;
    let any_segment = segsync_engine::Membership::any_of(
        segments.iter().map(|(_, membership)| membership.clone()),
    )
    .ok_or(crate::ExportError::NoSegments)?;
    let members = profiles
        .count(any_segment)
        .await
        .map_err(|error| segments_failed(segments, error))?;
    Ok((read, members))
}

/// A failure of the segments' own query names them; a failure of the source stays the
/// source's.
pub(crate) fn segments_failed(
    segments: &[(String, segsync_engine::Membership)],
    error: segsync_engine::EngineError,
) -> crate::ExportError {
    match error {
        segsync_engine::EngineError::ClusterRejected { .. }
        | segsync_engine::EngineError::Query(_) => crate::ExportError::SegmentsQuery {
            segments: segments.iter().map(|(name, _)| name.clone()).collect(),
            error: Box::new(error),
        },
        other => crate::ExportError::Profiles(other),
    }
}

#[cfg(test)]
mod tests {
    use segsync_engine::EngineError;

    use super::segments_failed;

    #[test]
    fn the_segments_own_query_failing_names_them_and_the_sources_failure_does_not() {
        let rejected = EngineError::ClusterRejected {
            cluster: "df://h:1".to_owned(),
            detail: "Internal error: a plan it could not build".to_owned(),
        };
        let named = segments_failed(&[], rejected);
        assert!(matches!(named, crate::ExportError::SegmentsQuery { .. }));
        let unread = segments_failed(
            &[],
            EngineError::Read {
                file: "profiles.parquet".to_owned(),
                detail: "gone".to_owned(),
            },
        );
        assert!(matches!(unread, crate::ExportError::Profiles(_)));
        let shown = crate::ExportError::SegmentsQuery {
            segments: vec!["frequent".to_owned(), "big spenders".to_owned()],
            error: Box::new(EngineError::ClusterRejected {
                cluster: "df://h:1".to_owned(),
                detail: "Internal error".to_owned(),
            }),
        }
        .to_string();
        assert_eq!(
            shown,
            "the segments \"frequent\", \"big spenders\": the cluster at df://h:1 could not carry out the query: Internal error"
        );
    }
}
