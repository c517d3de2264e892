//! Poll: every accepted import waited for until Constant Contact ends it, and each ending
//! written down.

use constant_contact::Activity;

use super::Run;
use super::send::Sent;
use crate::checkpoints::Checkpoints;
use crate::failure::{ExportFailure, Step};
use crate::report::{ActivityReport, ConstantContactCounters, RunReport};

/// How the imports ended.
pub(crate) struct Polled {
    /// One per accepted import, in the order they were sent.
    pub(crate) activities: Vec<ActivityReport>,
    /// Waiting for them failed: the activities are as they were accepted.
    pub(crate) failure: Option<ExportFailure>,
    /// An ending could not be written down.
    pub(crate) checkpoint_failure: Option<ExportFailure>,
}

impl Polled {
    /// Every import's end is known.
    pub(crate) fn complete(&self) -> bool {
        self.failure.is_none()
    }

    pub(crate) fn counters(&self) -> ConstantContactCounters {
        RunReport::total_counters(&self.activities)
    }

    /// Constant Contact did not add some contacts to the list: they are unsubscribed.
    pub(crate) fn cannot_add_to_list(&self) -> bool {
        self.counters().cannot_add_to_list_count > 0
    }
}

pub(crate) async fn poll<C: Checkpoints>(run: &Run<'_, C>, sent: &Sent) -> Polled {
    let ids: Vec<_> = sent
        .imports
        .iter()
        .map(|import| import.activity.activity_id)
        .collect();
    let (activities, failure) = if ids.is_empty() {
        (Vec::new(), None)
    } else {
        match run
            .client
            .wait_for_activities(&ids, &run.plan.poll_policy)
            .await
        {
            Ok(ended) => (ended, None),
            Err(error) => (
                sent.imports
                    .iter()
                    .map(|import| import.activity.clone())
                    .collect(),
                Some(ExportFailure::client(Step::PollingImports, error)),
            ),
        }
    };
    let activities: Vec<ActivityReport> = activities
        .iter()
        .zip(&sent.imports)
        .map(|(activity, import)| activity_report(activity, import.contacts))
        .collect();
    let mut checkpoint_failure = None;
    if failure.is_none() {
        for (report, import) in activities.iter().zip(&sent.imports) {
            if let Err(error) = run.checkpoints.import_ended(import.seq, report).await {
                checkpoint_failure
                    .get_or_insert(ExportFailure::checkpoint(Step::RecordingImportEnds, error));
            }
        }
    }
    Polled {
        activities,
        failure,
        checkpoint_failure,
    }
}

fn activity_report(activity: &Activity, contacts: u64) -> ActivityReport {
    ActivityReport {
        activity_id: activity.activity_id,
        contacts,
        state: crate::report::activity_state(activity.state),
        counters: ConstantContactCounters {
            person_count: activity.status.person_count,
            correctable_count: activity.status.correctable_count,
            cannot_add_to_list_count: activity.status.cannot_add_to_list_count,
            error_count: activity.status.error_count,
        },
        errors: activity
            .activity_errors
            .iter()
            .map(|error| error.message().to_owned())
            .collect(),
    }
}
