//! The run report (a `segsync_domain::run_report::RunReport`) as an export run fills it: which
//! source was read, and how many samples a report keeps.

pub use segsync_domain::run_report::{
    ActivityReport, ActivityState, ConstantContactCounters, RelatedRead, RunOutcome, RunReport,
    SourceRead, TableRead,
};

/// Samples kept per reason or duplicate list, so a report stays readable.
pub(crate) const SAMPLES: usize = 20;

/// The profile source `profiles` read and each related table beside it: where, as what, and
/// for a Delta table which version — so a run says exactly which data it exported.
pub fn source_read(profiles: &segsync_engine::Profiles) -> SourceRead {
    SourceRead {
        profiles: table_read(profiles.source(), profiles.snapshot()),
        related: profiles
            .related_reads()
            .map(|(table, snapshot)| RelatedRead {
                name: table.name.clone(),
                read: table_read(&table.source, snapshot),
            })
            .collect(),
    }
}

fn table_read(
    source: &segsync_engine::ProfileSource,
    snapshot: segsync_engine::SourceSnapshot,
) -> TableRead {
    TableRead {
        location: source.display_location(),
        format: snapshot.format.name().to_owned(),
        delta_version: snapshot.delta_version,
        version: None,
    }
}

/// Where a Constant Contact activity stood, as a report writes it.
pub(crate) fn activity_state(state: constant_contact::ActivityState) -> ActivityState {
    use constant_contact::ActivityState as Wire;
    match state {
        Wire::Initialized => ActivityState::Initialized,
        Wire::Processing => ActivityState::Processing,
        Wire::Completed => ActivityState::Completed,
        Wire::Cancelled => ActivityState::Cancelled,
        Wire::Failed => ActivityState::Failed,
        Wire::TimedOut => ActivityState::TimedOut,
        Wire::Unknown => ActivityState::Unknown,
    }
}
