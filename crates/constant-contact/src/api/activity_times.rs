//! How long Constant Contact takes to carry out an activity, learned from the activities that
//! ended (their own `created_at` and `completed_at`), so that the first poll of an import comes
//! when it is likely done instead of after a fixed wait. Every poll costs a request of the
//! daily quota and a slot of the rate limit; a poll that comes too early costs one more, one
//! that comes too late costs time.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use uuid::Uuid;

use crate::wire::activities::Activity;

/// Durations remembered per kind of activity, newest last.
const SAMPLES_KEPT: usize = 32;
/// Activities this client accepted and has not seen end; a bound, should some never be polled.
const ACCEPTED_KEPT: usize = 10_000;
/// An estimate is stretched by this much, so that most polls come just after the end rather
/// than just before it.
const ESTIMATE_MARGIN: f64 = 1.1;

/// What an activity does: imports and list-membership removals take very different times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    Import,
    Removal,
    ContactExport,
}

#[derive(Debug, Clone, Copy)]
struct Accepted {
    kind: ActivityKind,
    items: u64,
    at: Instant,
}

/// One ended activity: how many items it had, and how long it took.
#[derive(Debug, Clone, Copy)]
struct Sample {
    items: u64,
    seconds: f64,
}

/// Learned durations, shared by every client that talks to the same account.
#[derive(Debug, Default)]
pub struct ActivityTimes {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    accepted: HashMap<Uuid, Accepted>,
    samples: HashMap<ActivityKind, VecDeque<Sample>>,
}

impl ActivityTimes {
    /// Constant Contact accepted activity `activity_id` of `items` items just now.
    pub fn accepted(&self, activity_id: Uuid, kind: ActivityKind, items: u64) {
        let mut inner = self.lock();
        if inner.accepted.len() >= ACCEPTED_KEPT {
            inner.accepted.clear();
        }
        inner.accepted.insert(
            activity_id,
            Accepted {
                kind,
                items,
                at: Instant::now(),
            },
        );
    }

    /// An activity was seen in a terminal state: its duration is learned when it completed.
    pub fn ended(&self, activity: &Activity) {
        let mut inner = self.lock();
        let Some(accepted) = inner.accepted.remove(&activity.activity_id) else {
            return;
        };
        if activity.state != crate::ActivityState::Completed {
            return;
        }
        let (Some(created), Some(completed)) = (
            timestamp(activity.created_at.as_deref()),
            timestamp(activity.completed_at.as_deref()),
        ) else {
            return;
        };
        let seconds = (completed - created).as_seconds_f64();
        if seconds < 0.0 {
            return;
        }
        let samples = inner.samples.entry(accepted.kind).or_default();
        if samples.len() >= SAMPLES_KEPT {
            samples.pop_front();
        }
        samples.push_back(Sample {
            items: accepted.items,
            seconds,
        });
    }

    /// How long an activity of `kind` with `items` items likely takes, once one has been seen.
    /// With sizes far enough apart, a line through the samples (a fixed cost and a cost per
    /// item, neither below zero); otherwise as long as the typical one, or longer in proportion
    /// when it is larger (a small import costs about as much as a typical one).
    pub fn estimate(&self, kind: ActivityKind, items: u64) -> Option<Duration> {
        let inner = self.lock();
        let samples = inner.samples.get(&kind)?;
        if samples.is_empty() {
            return None;
        }
        let seconds = fitted_line(samples)
            .map(|(fixed, per_item)| fixed + per_item * items as f64)
            .unwrap_or_else(|| typical_scaled(samples, items));
        Some(Duration::from_secs_f64(seconds * ESTIMATE_MARGIN))
    }

    /// When every one of `activity_ids` is likely done, if this client accepted them all and
    /// knows how long such activities take.
    pub fn likely_done(&self, activity_ids: &[Uuid]) -> Option<Instant> {
        let accepted: Vec<Accepted> = {
            let inner = self.lock();
            activity_ids
                .iter()
                .map(|id| inner.accepted.get(id).copied())
                .collect::<Option<_>>()?
        };
        accepted
            .iter()
            .map(|accepted| {
                self.estimate(accepted.kind, accepted.items)
                    .map(|estimate| accepted.at + estimate)
            })
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    }

    /// When this client saw Constant Contact accept `activity_id`, if it did.
    pub fn accepted_at(&self, activity_id: Uuid) -> Option<Instant> {
        self.lock()
            .accepted
            .get(&activity_id)
            .map(|accepted| accepted.at)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Plain records: a panic elsewhere cannot leave them inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Sizes must spread at least this much (the largest over the smallest) for a line to be fitted.
const SPREAD_FOR_A_LINE: f64 = 2.0;

/// The least-squares line `seconds = fixed + per_item × items` through the samples, when their
/// sizes spread enough; `fixed` and `per_item` are kept at zero or above.
fn fitted_line(samples: &VecDeque<Sample>) -> Option<(f64, f64)> {
    let smallest = samples.iter().map(|sample| sample.items).min()? as f64;
    let largest = samples.iter().map(|sample| sample.items).max()? as f64;
    if largest < SPREAD_FOR_A_LINE * smallest.max(1.0) {
        return None;
    }
    let n = samples.len() as f64;
    let mean_items = samples.iter().map(|s| s.items as f64).sum::<f64>() / n;
    let mean_seconds = samples.iter().map(|s| s.seconds).sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for sample in samples {
        let dx = sample.items as f64 - mean_items;
        covariance += dx * (sample.seconds - mean_seconds);
        variance += dx * dx;
    }
    let per_item = (covariance / variance).max(0.0);
    let fixed = (mean_seconds - per_item * mean_items).max(0.0);
    Some((fixed, per_item))
}

/// The median duration, scaled up in proportion for an activity larger than the median one.
fn typical_scaled(samples: &VecDeque<Sample>, items: u64) -> f64 {
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let typical_seconds = median(samples.iter().map(|sample| sample.seconds).collect());
    let typical_items = median(samples.iter().map(|sample| sample.items as f64).collect());
    typical_seconds * (items as f64 / typical_items.max(1.0)).max(1.0)
}

fn timestamp(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(id: Uuid, seconds: f64) -> Activity {
        let created: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let completed = created + chrono::Duration::milliseconds((seconds * 1000.0) as i64);
        serde_json::from_value(serde_json::json!({
            "activity_id": id,
            "state": "completed",
            "created_at": created.to_rfc3339(),
            "completed_at": completed.to_rfc3339(),
        }))
        .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn estimates_come_from_what_ended_by_kind_and_size() {
        let times = ActivityTimes::default();
        assert_eq!(times.estimate(ActivityKind::Import, 40_000), None);
        for seconds in [0.5, 0.6, 0.7] {
            let id = Uuid::new_v4();
            times.accepted(id, ActivityKind::Import, 40_000);
            times.ended(&completed(id, seconds));
        }
        let typical = times.estimate(ActivityKind::Import, 40_000).unwrap();
        assert!((typical.as_secs_f64() - 0.66).abs() < 0.01, "{typical:?}");
        assert_eq!(
            times.estimate(ActivityKind::Import, 10_000),
            Some(typical),
            "a small import takes as long as a typical one"
        );
        let double = times.estimate(ActivityKind::Import, 80_000).unwrap();
        assert!((double.as_secs_f64() - 1.32).abs() < 0.01, "{double:?}");
        assert_eq!(times.estimate(ActivityKind::Removal, 500), None);

        // Sizes far apart: a line. 40,000 contacts take about 0.6 s, 8,000 take 0.44 s.
        let id = Uuid::new_v4();
        times.accepted(id, ActivityKind::Import, 8_000);
        times.ended(&completed(id, 0.44));
        let small = times.estimate(ActivityKind::Import, 10_000).unwrap();
        assert!(
            small < typical && small.as_secs_f64() > 0.44 * 1.1,
            "{small:?} between the small sample and the typical one"
        );

        let pending = Uuid::new_v4();
        times.accepted(pending, ActivityKind::Import, 40_000);
        assert_eq!(
            times.likely_done(&[pending]),
            Some(Instant::now() + typical)
        );
        assert_eq!(
            times.likely_done(&[pending, Uuid::new_v4()]),
            None,
            "one is unknown"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_activity_that_did_not_complete_teaches_nothing() {
        let times = ActivityTimes::default();
        let id = Uuid::new_v4();
        times.accepted(id, ActivityKind::Import, 10);
        let mut failed = completed(id, 0.5);
        failed.state = crate::ActivityState::Failed;
        times.ended(&failed);
        assert_eq!(times.estimate(ActivityKind::Import, 10), None);
        assert_eq!(times.likely_done(&[id]), None, "it is no longer pending");
    }
}
