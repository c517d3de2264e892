//! Runs an activity in the background: `initialized`, then `processing`, then a terminal state
//! with its effect applied, each step after the configured time.

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use crate::state::SandboxState;
use crate::state::activities::ActivityState;
use crate::state::imports::{ImportRequest, apply_import};

pub(crate) enum Job {
    Import(ImportRequest),
    RemoveMemberships {
        contact_ids: Vec<Uuid>,
        lists: Vec<u32>,
    },
}

pub(crate) fn start(state: Arc<SandboxState>, activity_id: Uuid, job: Job) {
    tokio::spawn(async move {
        tokio::time::sleep(state.config().activity_queue_time).await;
        if let Some(activity) = state.lock().activities.get_mut(activity_id) {
            activity.state = ActivityState::Processing;
            activity.started_at = Some(Utc::now());
            activity.updated_at = Utc::now();
        }
        tokio::time::sleep(state.config().activity_processing_time).await;
        finish(&state, activity_id, &job);
    });
}

fn finish(state: &SandboxState, activity_id: Uuid, job: &Job) {
    let now = Utc::now();
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
                Job::Import(request) => apply_import(&mut inner.contacts, request, now),
                Job::RemoveMemberships { contact_ids, lists } => {
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
