//! Activities: read one, read the recent ones, and poll until they end.

use std::collections::HashMap;
use std::time::Duration;

use uuid::Uuid;

use super::ConstantContact;
use crate::error::{Error, Result};
use crate::wire::activities::{Activity, ActivityPage};

/// How patiently activities are polled. Every poll costs a request of the daily quota, so the
/// wait between polls grows.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    pub first_wait: Duration,
    /// Each wait is the previous one times this.
    pub growth: f64,
    pub max_wait: Duration,
    /// Polling stops with [`Error::PollTimedOut`] after this long.
    pub give_up_after: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            first_wait: Duration::from_secs(1),
            growth: 1.5,
            max_wait: Duration::from_secs(10),
            give_up_after: Duration::from_secs(3600),
        }
    }
}

/// The shortest wait before reading again activities that are late on their guessed end.
const LATE_WAIT_AT_LEAST: Duration = Duration::from_millis(100);

/// The largest page of `GET /activities`.
const ACTIVITY_PAGE_SIZE: u32 = 500;

impl ConstantContact {
    /// One activity. Unknown or older than ten days: `Rejected` with 404.
    pub async fn get_activity(&self, activity_id: Uuid) -> Result<Activity> {
        self.get_json(&format!("activities/{activity_id}"), &[])
            .await
    }

    /// The most recent activities of the account (the last ten days), newest first.
    pub async fn recent_activities(&self) -> Result<Vec<Activity>> {
        let page: ActivityPage = self
            .get_json("activities", &[("limit", ACTIVITY_PAGE_SIZE.to_string())])
            .await?;
        Ok(page.activities)
    }

    /// Polls one activity until it is `completed`, `failed`, `cancelled` or `timed_out`.
    pub async fn wait_for_activity(
        &self,
        activity_id: Uuid,
        policy: &PollPolicy,
    ) -> Result<Activity> {
        let mut activities = self.wait_for_activities(&[activity_id], policy).await?;
        Ok(activities.remove(0))
    }

    /// Polls several activities until all have ended, returned in the order of `activity_ids`.
    /// With more than one to watch, each round reads the list of recent activities once, so
    /// watching twenty-five imports costs one request per round, not twenty-five.
    ///
    /// The first read comes when all of them are likely done, by how long activities of their
    /// kind and size took so far (see [`super::ActivityTimes`]); with nothing learned yet it
    /// comes at once — the ones that ended teach how long the rest will take — and the next
    /// when the rest are likely done (a lone activity just accepted is first given the policy's
    /// first wait). When a guess falls short, the policy's waits take over.
    pub async fn wait_for_activities(
        &self,
        activity_ids: &[Uuid],
        policy: &PollPolicy,
    ) -> Result<Vec<Activity>> {
        let started = tokio::time::Instant::now();
        let mut wait = policy.first_wait;
        let mut finished: HashMap<Uuid, Activity> = HashMap::new();
        let mut guessed_until = None;
        let mut late_wait: Option<Duration> = None;
        if let Some(likely_done) = self.activity_times.likely_done(activity_ids) {
            tokio::time::sleep_until(likely_done).await;
            guessed_until = Some(likely_done);
        } else if let [only] = activity_ids
            && let Some(accepted_at) = self.activity_times.accepted_at(*only)
        {
            // One activity just accepted, nothing learned: reading it at once would teach
            // nothing, so the policy's first wait comes first.
            tokio::time::sleep_until(accepted_at + policy.first_wait).await;
        }
        loop {
            let pending: Vec<Uuid> = activity_ids
                .iter()
                .copied()
                .filter(|id| !finished.contains_key(id))
                .collect();
            if pending.is_empty() {
                return Ok(activity_ids.iter().map(|id| finished[id].clone()).collect());
            }
            let mut last_seen = HashMap::new();
            if pending.len() == 1 {
                let activity = self.get_activity(pending[0]).await?;
                last_seen.insert(activity.activity_id, activity);
            } else {
                for activity in self.recent_activities().await? {
                    if pending.contains(&activity.activity_id) {
                        last_seen.insert(activity.activity_id, activity);
                    }
                }
                // An activity pushed off the recent page is read on its own.
                for id in &pending {
                    if !last_seen.contains_key(id) {
                        last_seen.insert(*id, self.get_activity(*id).await?);
                    }
                }
            }
            for (id, activity) in last_seen {
                if activity.state.is_terminal() {
                    self.activity_times.ended(&activity);
                    finished.insert(id, activity);
                } else if started.elapsed() + wait > policy.give_up_after {
                    return Err(Error::PollTimedOut {
                        activity_id: id.to_string(),
                        state: activity.state.as_str().to_owned(),
                        waited_seconds: started.elapsed().as_secs(),
                    });
                }
            }
            if finished.len() < activity_ids.len() {
                let still_pending: Vec<Uuid> = activity_ids
                    .iter()
                    .copied()
                    .filter(|id| !finished.contains_key(id))
                    .collect();
                // What the ended ones taught may say when the rest will be done. A guess made
                // already is not made again; when the rest are late on it, they are read again
                // soon — a tenth of the guess's lead, growing — rather than after the policy's
                // full wait.
                let now = tokio::time::Instant::now();
                match self.activity_times.likely_done(&still_pending) {
                    Some(likely_done)
                        if likely_done > now
                            && guessed_until.is_none_or(|before| likely_done > before) =>
                    {
                        guessed_until = Some(likely_done);
                        tokio::time::sleep_until(likely_done).await;
                    }
                    Some(likely_done) => {
                        let accepted = still_pending
                            .iter()
                            .filter_map(|id| self.activity_times.accepted_at(*id))
                            .max()
                            .unwrap_or(now);
                        let lead = likely_done.saturating_duration_since(accepted);
                        let this_wait = late_wait.unwrap_or((lead / 10).max(LATE_WAIT_AT_LEAST));
                        tokio::time::sleep(this_wait).await;
                        late_wait = Some(this_wait.mul_f64(policy.growth).min(policy.max_wait));
                    }
                    None => {
                        tokio::time::sleep(wait).await;
                        wait = wait.mul_f64(policy.growth).min(policy.max_wait);
                    }
                }
            }
        }
    }
}
