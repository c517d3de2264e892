//! Retention: how long what ages out is kept (`[retention]`), the purge every node runs
//! (coordinated through the store, so one node purges per round), and what is held now.

use chrono::{DateTime, Duration, Utc};
use segsync_domain::ChainExt;
use segsync_store::{HeldData, Store, StoreError};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

/// How long what ages out is kept, in days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Run reports' samples and skipped-members lists.
    pub run_details_days: u32,
    /// Runs themselves, with their reports.
    pub runs_days: u32,
    /// The audit log.
    pub audit_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            run_details_days: 30,
            runs_days: 400,
            audit_days: 400,
        }
    }
}

/// Sign-in failures are forgotten a day after the last attempt.
const SIGN_IN_FAILURES_HOURS: i64 = 24;
/// Rows one transaction of a purge deletes or rewrites at most.
const PURGE_BATCH: u32 = 200;
/// The setting that says when the last purge round began, for every node to see.
const LAST_PURGE: &str = "retention_last_purge_at";
/// A node purges when no node has for this long.
pub const PURGE_EVERY: Duration = Duration::minutes(10);

/// What one purge round removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Purged {
    pub run_details: u64,
    pub runs: u64,
    pub audit_entries: u64,
    pub sign_in_failures: u64,
}

/// What the store holds that ages out, with when the oldest of each goes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldView {
    pub retention: RetentionConfig,
    pub runs: u64,
    pub runs_with_details: u64,
    pub skipped_entries: u64,
    pub audit_entries: u64,
    pub sign_in_failures: u64,
    pub ledger_members: u64,
    pub opt_outs: u64,
    pub exclusions: u64,
    pub tombstones: u64,
    pub erasures: u64,
    /// When the oldest run's details go (samples, skipped members).
    pub next_details_purge: Option<DateTime<Utc>>,
    /// When the oldest run goes.
    pub next_run_purge: Option<DateTime<Utc>>,
    /// When the oldest audit entry goes.
    pub next_audit_purge: Option<DateTime<Utc>>,
}

impl RetentionConfig {
    /// Each `…_days` must be at least 1, and runs kept no shorter than their details.
    pub fn check(&self) -> Result<(), String> {
        for (name, days) in [
            ("run_details_days", self.run_details_days),
            ("runs_days", self.runs_days),
            ("audit_days", self.audit_days),
        ] {
            if days == 0 {
                return Err(format!("[retention] {name} must be at least 1"));
            }
        }
        if self.runs_days < self.run_details_days {
            return Err(format!(
                "[retention] runs_days ({}) must be at least run_details_days ({})",
                self.runs_days, self.run_details_days
            ));
        }
        Ok(())
    }

    /// What `held` holds, and when its oldest goes.
    pub fn view(&self, held: &HeldData) -> HeldView {
        let after = |at: Option<DateTime<Utc>>, days: u32| {
            at.map(|at| at + Duration::days(i64::from(days)))
        };
        HeldView {
            retention: self.clone(),
            runs: held.runs,
            runs_with_details: held.runs_with_details,
            skipped_entries: held.skipped_entries,
            audit_entries: held.audit_entries,
            sign_in_failures: held.sign_in_failures,
            ledger_members: held.ledger_members,
            opt_outs: held.opt_outs,
            exclusions: held.exclusions,
            tombstones: held.tombstones,
            erasures: held.erasures,
            next_details_purge: after(held.oldest_details_at, self.run_details_days),
            next_run_purge: after(held.oldest_run_at, self.runs_days),
            next_audit_purge: after(held.oldest_audit_at, self.audit_days),
        }
    }

    /// Purges what aged out by `now`, a batch per transaction until nothing is left.
    pub async fn purge(&self, store: &Store, now: DateTime<Utc>) -> Result<Purged, StoreError> {
        let days = |days: u32| now - Duration::days(i64::from(days));
        let mut purged = Purged::default();
        loop {
            let done = store
                .purge_run_details(days(self.run_details_days), PURGE_BATCH)
                .await?;
            purged.run_details += done;
            if done == 0 {
                break;
            }
        }
        loop {
            let done = store.purge_runs(days(self.runs_days), PURGE_BATCH).await?;
            purged.runs += done;
            if done == 0 {
                break;
            }
        }
        loop {
            let done = store
                .purge_audit(days(self.audit_days), PURGE_BATCH)
                .await?;
            purged.audit_entries += done;
            if done == 0 {
                break;
            }
        }
        purged.sign_in_failures = store
            .purge_sign_in_failures(now - Duration::hours(SIGN_IN_FAILURES_HOURS), now)
            .await?;
        Ok(purged)
    }

    /// Purges when no node has for [`PURGE_EVERY`]: the node that moves the store's mark
    /// first purges, the others leave it. Returns what was purged, if this node purged.
    pub async fn purge_when_due(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> Result<Option<Purged>, StoreError> {
        let last = store.setting(LAST_PURGE).await?;
        let last_at = last
            .as_ref()
            .and_then(serde_json::Value::as_i64)
            .and_then(DateTime::from_timestamp_millis);
        if last_at.is_some_and(|at| now - at < PURGE_EVERY) {
            return Ok(None);
        }
        let mark = serde_json::json!(now.timestamp_millis());
        if !store
            .replace_setting(LAST_PURGE, last.as_ref(), &mark)
            .await?
        {
            return Ok(None);
        }
        let purged = self.purge(store, now).await?;
        if purged != Purged::default() {
            info!(
                run_details = purged.run_details,
                runs = purged.runs,
                audit_entries = purged.audit_entries,
                sign_in_failures = purged.sign_in_failures,
                "What aged out of retention was purged."
            );
        }
        Ok(Some(purged))
    }
}

/// Logs a purge that failed; the next round tries again.
pub(crate) fn purge_failed(error: &StoreError) {
    warn!(error = %error.chain(), "What aged out of retention could not be purged; the next round tries again.");
}
