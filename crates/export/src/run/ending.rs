//! Report: the run's outcome, decided from what every phase left, and the report that accounts
//! for every profile.

use chrono::{DateTime, Utc};
use segsync_domain::ChainExt;

use super::RunEnded;
use super::count::ProfileCounts;
use super::list_upkeep::{Removals, UnsubscribedCheckFailure};
use super::poll::Polled;
use super::send::{ProducerEnd, Streamed};
use crate::failure::ExportFailure;
use crate::plan::ExportPlan;
use crate::report::{ActivityState, RunOutcome, RunReport, SAMPLES, SourceRead};

/// Everything the phases left.
pub(crate) struct Ended<'a> {
    pub(crate) plan: &'a ExportPlan,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) profiles: &'a ProfileCounts,
    pub(crate) source: SourceRead,
    pub(crate) streamed: Streamed,
    pub(crate) polled: Polled,
    pub(crate) unsubscribed: Result<Vec<Box<str>>, UnsubscribedCheckFailure>,
    pub(crate) removals: Removals,
    pub(crate) requests_used: u64,
    pub(crate) phases: Vec<(String, f64)>,
    pub(crate) list_members_at_start: Option<u64>,
}

/// The first failure in the order the phases ran, else cancellation, else an import that did
/// not complete, else a failed removal.
fn outcome(ended: &mut Ended<'_>) -> Outcome {
    let failed = Outcome::Failed;
    let streamed = &mut ended.streamed;
    if let Some(failure) = streamed.sent.failure.take() {
        return failed(failure);
    }
    if let ProducerEnd::Failed(failure) = &streamed.producer_end {
        return failed(failure.clone());
    }
    if let Some(failure) = ended.polled.failure.take() {
        return failed(failure);
    }
    if let Some(failure) = ended.polled.checkpoint_failure.take() {
        return failed(failure);
    }
    if streamed.cancelled() {
        return Outcome::Cancelled;
    }
    let activities = &ended.polled.activities;
    let unfinished: Vec<_> = activities
        .iter()
        .filter(|activity| activity.state != ActivityState::Completed)
        .collect();
    if let Some(activity) = unfinished.first() {
        return failed(ExportFailure::ImportsIncomplete {
            unfinished: unfinished.len(),
            total: activities.len(),
            activity_id: activity.activity_id,
            state: activity.state,
        });
    }
    if let Some(failure) = &ended.removals.failure {
        return failed(failure.clone());
    }
    Outcome::Succeeded
}

/// How the run ended, with its failure as the run engine acts on it.
enum Outcome {
    Succeeded,
    Failed(ExportFailure),
    Cancelled,
}

pub(crate) fn report(mut ended: Ended<'_>) -> RunEnded {
    let (outcome, failure) = match outcome(&mut ended) {
        Outcome::Succeeded => (RunOutcome::Succeeded, None),
        Outcome::Cancelled => (RunOutcome::Cancelled, None),
        Outcome::Failed(failure) => (
            RunOutcome::Failed {
                reason: failure.chain().to_string(),
            },
            Some(failure),
        ),
    };
    let Ended {
        plan,
        started_at,
        profiles,
        source,
        streamed,
        polled,
        unsubscribed,
        removals,
        requests_used,
        phases,
        list_members_at_start,
    } = ended;
    let Streamed {
        tallies,
        sorter,
        sent,
        ..
    } = streamed;
    let counts = sorter.counts;
    let (unsubscribed_found, unsubscribed_failure) = match unsubscribed {
        Ok(found) => (found, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    let mut duplicate_samples: Vec<(String, u64)> = tallies
        .duplicate_counts
        .iter()
        .map(|(email, extra)| (email.to_string(), *extra))
        .collect();
    duplicate_samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    duplicate_samples.truncate(SAMPLES);
    let members_per_segment = plan
        .segments
        .iter()
        .map(|s| s.name.clone())
        .zip(tallies.members_per_segment.iter().copied())
        .collect();
    let accounted = tallies.invalid.values().sum::<u64>()
        + tallies.duplicates
        + tallies.excluded
        + tallies.erased
        + counts.held_back()
        + sent.rejected
        + sent.contacts;
    let constant_contact = polled.counters();
    let report = RunReport {
        outcome,
        mode: plan.mode,
        full_resync: plan.full_resync,
        list_id: plan.list_id,
        started_at,
        finished_at: Utc::now(),
        source,
        profiles_read: profiles.read,
        profiles_outside_segments: profiles.read - profiles.in_segments,
        profiles_in_segments: profiles.in_segments,
        members_per_segment,
        invalid: tallies.invalid,
        invalid_samples: tallies.invalid_samples,
        duplicates_collapsed: tallies.duplicates,
        duplicate_samples,
        excluded: tallies.excluded,
        excluded_samples: tallies.excluded_samples,
        erased: tallies.erased,
        fields_truncated: tallies.truncated,
        sent: sent.contacts,
        not_sent: profiles.in_segments.saturating_sub(accounted),
        rejected: sent.rejected,
        rejected_samples: sent.rejected_samples,
        sync: counts,
        unsubscribed_found: unsubscribed_found.len() as u64,
        unsubscribed_found_samples: unsubscribed_found
            .iter()
            .take(SAMPLES)
            .map(ToString::to_string)
            .collect(),
        unsubscribed_check_failed: unsubscribed_failure,
        removed: removals.removed,
        already_off_list: removals.already_off,
        constant_contact,
        activities: polled.activities,
        requests_used,
        phases,
        list_members_at_start,
        verification: None,
        verification_failed: None,
    };
    RunEnded { report, failure }
}
