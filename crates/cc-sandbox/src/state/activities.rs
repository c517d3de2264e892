//! Bulk activities: their states, counters and JSON, and the queue limit.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::timestamp;

/// How long Constant Contact keeps an activity's status; after that it is gone (404).
pub const ACTIVITY_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityState {
    Initialized,
    Processing,
    Completed,
    Cancelled,
    Failed,
    TimedOut,
}

impl ActivityState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initialized => "initialized",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(Value::String(text.to_owned())).ok()
    }

    fn is_queued(self) -> bool {
        matches!(self, Self::Initialized | Self::Processing)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActivityKind {
    ContactsJsonImport,
    RemoveListMemberships,
    ContactExport,
    ContactDelete,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    pub(crate) items_total_count: u64,
    pub(crate) items_completed_count: u64,
    pub(crate) person_count: u64,
    pub(crate) error_count: u64,
    pub(crate) correctable_count: u64,
    pub(crate) cannot_add_to_list_count: u64,
    pub(crate) list_count: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct ActivityRecord {
    pub(crate) activity_id: Uuid,
    pub(crate) kind: ActivityKind,
    pub(crate) state: ActivityState,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) started_at: Option<DateTime<Utc>>,
    pub(crate) completed_at: Option<DateTime<Utc>>,
    pub(crate) errors: Vec<String>,
    pub(crate) counters: Counters,
    /// Set by fault injection: the terminal state this activity will reach without effect.
    pub(crate) planned_failure: Option<ActivityState>,
}

impl ActivityRecord {
    pub(crate) fn to_json(&self) -> Value {
        let counters = &self.counters;
        let status = match self.kind {
            ActivityKind::ContactsJsonImport => json!({
                "items_total_count": counters.items_total_count,
                "items_completed_count": counters.items_completed_count,
                "person_count": counters.person_count,
                "error_count": counters.error_count,
                "correctable_count": counters.correctable_count,
                "cannot_add_to_list_count": counters.cannot_add_to_list_count,
            }),
            ActivityKind::RemoveListMemberships => json!({
                "items_total_count": counters.items_total_count,
                "items_completed_count": counters.items_completed_count,
                "list_count": counters.list_count,
            }),
            ActivityKind::ContactExport | ActivityKind::ContactDelete => json!({
                "items_total_count": counters.items_total_count,
                "items_completed_count": counters.items_completed_count,
            }),
        };
        let percent_done = match self.state {
            ActivityState::Initialized => 0,
            ActivityState::Processing => 50,
            _ => 100,
        };
        let mut body = json!({
            "activity_id": self.activity_id,
            "state": self.state.as_str(),
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.updated_at),
            "percent_done": percent_done,
            "activity_errors": self.errors,
            "status": status,
            "_links": { "self": { "href": format!("/v3/activities/{}", self.activity_id) } },
        });
        if let Some(started_at) = self.started_at {
            body["started_at"] = json!(timestamp(started_at));
        }
        if let Some(completed_at) = self.completed_at {
            body["completed_at"] = json!(timestamp(completed_at));
        }
        if self.kind == ActivityKind::ContactExport && self.state == ActivityState::Completed {
            body["_links"]["results"] =
                json!({ "href": format!("/v3/contact_exports/{}", self.activity_id) });
        }
        body
    }
}

#[derive(Debug, Default)]
pub(crate) struct ActivityStore {
    activities: HashMap<Uuid, ActivityRecord>,
    /// Activity ids, oldest first.
    order: Vec<Uuid>,
    /// How many activities expired from the front of `order`: places stay the same after.
    expired: usize,
    /// Contact imports accepted, expired ones included.
    imports_accepted: usize,
    failures_to_inject: VecDeque<ActivityState>,
}

impl ActivityStore {
    /// How many contact imports were accepted, those gone after ten days included.
    pub(crate) fn imports(&self) -> usize {
        self.imports_accepted
    }

    pub(crate) fn queued(&self) -> usize {
        self.activities
            .values()
            .filter(|activity| activity.state.is_queued())
            .count()
    }

    pub(crate) fn create(
        &mut self,
        kind: ActivityKind,
        items: u64,
        now: DateTime<Utc>,
    ) -> &ActivityRecord {
        let activity_id = Uuid::new_v4();
        if kind == ActivityKind::ContactsJsonImport {
            self.imports_accepted += 1;
        }
        let record = ActivityRecord {
            activity_id,
            kind,
            state: ActivityState::Initialized,
            created_at: now,
            updated_at: now,
            started_at: None,
            completed_at: None,
            errors: Vec::new(),
            counters: Counters {
                items_total_count: items,
                ..Counters::default()
            },
            planned_failure: self.failures_to_inject.pop_front(),
        };
        self.order.push(activity_id);
        self.activities.entry(activity_id).or_insert(record)
    }

    pub(crate) fn get(&self, activity_id: Uuid) -> Option<&ActivityRecord> {
        self.activities.get(&activity_id)
    }

    pub(crate) fn get_mut(&mut self, activity_id: Uuid) -> Option<&mut ActivityRecord> {
        self.activities.get_mut(&activity_id)
    }

    /// Forgets the activities created more than ten days before `now`.
    pub(crate) fn forget_expired(&mut self, now: DateTime<Utc>) {
        let oldest_kept = now - ACTIVITY_RETENTION;
        let expired = self
            .order
            .iter()
            .take_while(|id| {
                self.activities
                    .get(id)
                    .is_none_or(|activity| activity.created_at < oldest_kept)
            })
            .count();
        for id in self.order.drain(..expired) {
            self.activities.remove(&id);
        }
        self.expired += expired;
    }

    /// Newest first, each with its place in creation order (a stable cursor: later activities
    /// do not move it), starting below `before` when given.
    pub(crate) fn newest_first(
        &self,
        before: Option<usize>,
    ) -> impl Iterator<Item = (usize, &ActivityRecord)> {
        let end = before
            .map_or(self.order.len(), |place| place.saturating_sub(self.expired))
            .min(self.order.len());
        self.order[..end]
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(index, id)| {
                let place = self.expired + index;
                self.activities.get(id).map(|activity| (place, activity))
            })
    }

    pub(crate) fn fail_next(&mut self, count: u32, state: ActivityState) {
        self.failures_to_inject
            .extend(std::iter::repeat_n(state, count as usize));
    }
}
