//! Runs an activity in the background: `initialized`, then `processing`, then a terminal state
//! with its effect applied, each step after the configured time.

use std::sync::Arc;

use uuid::Uuid;

use crate::state::SandboxState;
use crate::state::activities::ActivityState;
use crate::state::contact_exports::ExportRequest;
use crate::state::imports::{ImportRequest, ImportRow, apply_import};

pub(crate) enum Job {
    Import(ImportRequest),
    RemoveMemberships {
        contact_ids: Vec<Uuid>,
        lists: Vec<u32>,
    },
    /// The file is written when the activity completes, from the contacts as they are then.
    ExportContacts(ExportRequest),
    DeleteContacts(Vec<Uuid>),
}

/// A job with its contacts read.
enum PreparedJob {
    Import {
        rows: Vec<ImportRow>,
        list_indexes: Vec<u32>,
    },
    RemoveMemberships {
        contact_ids: Vec<Uuid>,
        lists: Vec<u32>,
    },
    ExportContacts(ExportRequest),
    DeleteContacts(Vec<Uuid>),
}

fn prepare(job: Job) -> PreparedJob {
    match job {
        Job::Import(request) => PreparedJob::Import {
            rows: request.rows(),
            list_indexes: request.list_indexes,
        },
        Job::RemoveMemberships { contact_ids, lists } => {
            PreparedJob::RemoveMemberships { contact_ids, lists }
        }
        Job::ExportContacts(request) => PreparedJob::ExportContacts(request),
        Job::DeleteContacts(contact_ids) => PreparedJob::DeleteContacts(contact_ids),
    }
}

pub(crate) fn start(state: Arc<SandboxState>, activity_id: Uuid, job: Job) {
    tokio::spawn(async move {
        tokio::time::sleep(state.config().activity_queue_time).await;
        if let Some(activity) = state.lock().activities.get_mut(activity_id) {
            activity.state = ActivityState::Processing;
            activity.started_at = Some(state.now());
            activity.updated_at = state.now();
        }
        let processing_time = tokio::time::sleep(state.config().activity_processing_time);
        // Reading the contacts is the slow part; it runs beside the clock, off the lock.
        let job = tokio::task::spawn_blocking(move || prepare(job));
        let (_, job) = tokio::join!(processing_time, job);
        let job = job.expect("reading an import does not panic");
        finish(&state, activity_id, &job);
    });
}

fn finish(state: &SandboxState, activity_id: Uuid, job: &PreparedJob) {
    let now = state.now();
    let mut inner = state.lock();
    let planned_failure = inner
        .activities
        .get(activity_id)
        .and_then(|activity| activity.planned_failure);
    let (final_state, counters, errors) = match planned_failure {
        Some(failure) => {
            let message = match failure {
                ActivityState::TimedOut => "The activity timed out before it finished.",
                _ => "The activity failed because of an internal error.",
            };
            (failure, None, vec![message.to_owned()])
        }
        None => {
            let counters = match job {
                PreparedJob::Import { rows, list_indexes } => {
                    apply_import(&mut inner.contacts, rows, list_indexes, now)
                }
                PreparedJob::RemoveMemberships { contact_ids, lists } => {
                    for contact_id in contact_ids {
                        inner.contacts.remove_memberships(*contact_id, lists);
                    }
                    let total = contact_ids.len() as u64;
                    crate::state::activities::Counters {
                        items_total_count: total,
                        items_completed_count: total,
                        list_count: lists.len() as u64,
                        ..Default::default()
                    }
                }
                PreparedJob::DeleteContacts(contact_ids) => {
                    let deleted = contact_ids
                        .iter()
                        .filter(|contact_id| inner.contacts.delete_by_id(**contact_id, now))
                        .count() as u64;
                    crate::state::activities::Counters {
                        items_total_count: contact_ids.len() as u64,
                        items_completed_count: deleted,
                        ..Default::default()
                    }
                }
                PreparedJob::ExportContacts(request) => {
                    let (csv, rows) = request.write_csv(&inner.contacts, now);
                    inner.export_files.keep(activity_id, csv, now);
                    crate::state::activities::Counters {
                        items_total_count: rows,
                        items_completed_count: rows,
                        ..Default::default()
                    }
                }
            };
            (ActivityState::Completed, Some(counters), Vec::new())
        }
    };
    if let Some(activity) = inner.activities.get_mut(activity_id) {
        activity.state = final_state;
        activity.completed_at = Some(now);
        activity.updated_at = now;
        activity.errors = errors;
        if let Some(counters) = counters {
            activity.counters = counters;
        }
    }
}
