//! A run's checkpoints and ledger in the store: what the export sent before is loaded when the
//! run starts, and each import is written down before it is sent, when it is accepted, and when
//! it ends.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDate, Utc};
use segsync_export::{
    ActivityReport, ActivityState, BatchMember, Checkpoints, Ledger, Remembered, UnsubscribedMember,
};
use segsync_store::{LedgerOf, RunClaim, SentMember, Store, StoreError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Loads the ledger of an export's list as the run `run_id` sees it.
pub async fn load_ledger(store: &Store, of: LedgerOf, run_id: Uuid) -> Result<Ledger, StoreError> {
    let size = store.ledger_size(of.export_id, of.list_id).await?;
    let mut ledger = Ledger::with_capacity(size as usize);
    store
        .load_ledger(of.export_id, of.list_id, run_id, |entry| {
            ledger.insert(
                entry.email_key,
                Remembered {
                    fingerprint: entry.fingerprint,
                    owned: entry.owned,
                    unsubscribed: entry.unsubscribed,
                    sent_by_this_run: entry.sent_by_this_run,
                },
            );
        })
        .await?;
    Ok(ledger)
}

/// Writes a run's checkpoints to the store.
pub struct StoreCheckpoints {
    pub store: Store,
    /// Every write is made under the run's claim: a worker that lost it writes nothing more.
    pub claim: RunClaim,
    pub ledger: LedgerOf,
    /// Imports an earlier attempt of the run already numbered: this attempt's come after.
    pub first_seq: u32,
    /// The API key whose daily budget the run draws on, shared through the store.
    pub quota: SharedQuota,
    /// Cancelled once a write finds the claim lapsed: the run was taken over.
    pub claim_lost: CancellationToken,
}

/// One API key's daily budget, shared through the store by every process, and what this run
/// reserved of it.
pub struct SharedQuota {
    pub api_key: String,
    pub requests_per_day: u64,
    /// The UTC day the reservation was made for.
    pub day: NaiveDate,
    reserved: AtomicU64,
}

impl SharedQuota {
    pub fn new(api_key: impl Into<String>, requests_per_day: u64) -> Self {
        Self {
            api_key: api_key.into(),
            requests_per_day,
            day: Utc::now().date_naive(),
            reserved: AtomicU64::new(0),
        }
    }

    /// Releases the reservation and counts the requests the run used.
    pub async fn settle(&self, store: &Store, used: u64) -> Result<(), StoreError> {
        let reserved = self.reserved.swap(0, Ordering::Relaxed);
        store
            .settle_requests(&self.api_key, self.day, reserved, used)
            .await
    }
}

impl StoreCheckpoints {
    pub fn new(
        store: Store,
        claim: RunClaim,
        ledger: LedgerOf,
        first_seq: u32,
        quota: SharedQuota,
    ) -> Self {
        Self {
            store,
            claim,
            ledger,
            first_seq,
            quota,
            claim_lost: CancellationToken::new(),
        }
    }

    fn seq(&self, seq: u32) -> u32 {
        self.first_seq + seq
    }

    /// What a failed write tells the export, noting a lapsed claim.
    fn failed(&self, error: &StoreError) -> String {
        if matches!(error, StoreError::ClaimLost { .. }) {
            self.claim_lost.cancel();
        }
        error.to_string()
    }
}

fn sent_members(members: &[BatchMember]) -> Vec<SentMember> {
    members
        .iter()
        .map(|member| SentMember {
            email_key: member.key,
            fingerprint: member.fingerprint,
            owned: member.owned,
        })
        .collect()
}

impl Checkpoints for StoreCheckpoints {
    async fn reserve_requests(&self, needed: u64) -> Result<Result<(), u64>, String> {
        let quota = &self.quota;
        let reserved = self
            .store
            .reserve_requests(&quota.api_key, quota.day, needed, quota.requests_per_day)
            .await
            .map_err(|error| self.failed(&error))?;
        if reserved.is_ok() {
            quota.reserved.fetch_add(needed, Ordering::Relaxed);
        }
        Ok(reserved)
    }

    async fn import_planned(&self, seq: u32, members: &[BatchMember]) -> Result<(), String> {
        self.store
            .plan_batch(&self.claim, self.seq(seq), &sent_members(members))
            .await
            .map_err(|error| self.failed(&error))
    }

    async fn import_sent(
        &self,
        seq: u32,
        activity_id: Uuid,
        members: &[BatchMember],
    ) -> Result<(), String> {
        self.store
            .batch_sent(
                &self.claim,
                self.seq(seq),
                activity_id,
                self.ledger,
                &sent_members(members),
            )
            .await
            .map_err(|error| self.failed(&error))
    }

    async fn import_refused(&self, seq: u32) -> Result<(), String> {
        self.store
            .drop_unsent_batch(&self.claim, self.seq(seq))
            .await
            .map_err(|error| self.failed(&error))
    }

    async fn import_ended(&self, seq: u32, activity: &ActivityReport) -> Result<(), String> {
        let counters = serde_json::to_value(activity).expect("a report serialises");
        self.store
            .batch_ended(
                &self.claim,
                self.seq(seq),
                activity.state == ActivityState::Completed,
                &counters,
                self.ledger,
            )
            .await
            .map_err(|error| self.failed(&error))
    }

    async fn before_send(&self) -> Result<(), String> {
        self.store
            .confirm_claim(&self.claim)
            .await
            .map_err(|error| self.failed(&error))
    }

    async fn removed(&self, keys: &[u64]) -> Result<(), String> {
        self.store
            .forget_members(
                &self.claim,
                self.ledger.export_id,
                self.ledger.list_id,
                keys,
            )
            .await
            .map_err(|error| self.failed(&error))
    }

    async fn unsubscribed(&self, members: &[UnsubscribedMember]) -> Result<Vec<Box<str>>, String> {
        let keys: Vec<u64> = members.iter().map(|member| member.key).collect();
        let marked = self
            .store
            .mark_unsubscribed(
                &self.claim,
                self.ledger.export_id,
                self.ledger.list_id,
                &keys,
            )
            .await
            .map_err(|error| self.failed(&error))?;
        let marked: HashSet<u64> = marked.into_iter().collect();
        Ok(members
            .iter()
            .filter(|member| marked.contains(&member.key))
            .map(|member| member.email.clone())
            .collect())
    }
}
