//! A run's checkpoints in the store: each import is written down before it is sent, when it is
//! accepted, and when it ends, under the run's claim.

use std::collections::HashSet;

use segsync_export::{
    ActivityReport, ActivityState, BatchMember, CheckpointError, Checkpoints, Reservation,
    UnsubscribedMember,
};
use segsync_store::{LedgerOf, RunClaim, SentMember, Store, StoreError};

use crate::quota::SharedQuota;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

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
    fn failed(&self, error: StoreError) -> CheckpointError {
        if matches!(error, StoreError::ClaimLost { .. }) {
            self.claim_lost.cancel();
            return CheckpointError::ClaimLost;
        }
        CheckpointError::store(error)
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
    async fn reserve_requests(&self, needed: u64) -> Result<Reservation, CheckpointError> {
        let quota = &self.quota;
        let reserved = self
            .store
            .reserve_requests(&quota.api_key, quota.day, needed, quota.requests_per_day)
            .await
            .map_err(|error| self.failed(error))?;
        match reserved {
            Ok(()) => {
                quota.note_reserved(needed);
                Ok(Reservation::Reserved)
            }
            Err(left) => Ok(Reservation::Short { left }),
        }
    }

    async fn import_planned(
        &self,
        seq: u32,
        members: &[BatchMember],
    ) -> Result<(), CheckpointError> {
        self.store
            .plan_batch(&self.claim, self.seq(seq), &sent_members(members))
            .await
            .map_err(|error| self.failed(error))
    }

    async fn import_sent(
        &self,
        seq: u32,
        activity_id: Uuid,
        members: &[BatchMember],
    ) -> Result<(), CheckpointError> {
        self.store
            .batch_sent(
                &self.claim,
                self.seq(seq),
                activity_id,
                self.ledger,
                &sent_members(members),
            )
            .await
            .map_err(|error| self.failed(error))
    }

    async fn import_refused(&self, seq: u32) -> Result<(), CheckpointError> {
        self.store
            .drop_unsent_batch(&self.claim, self.seq(seq))
            .await
            .map_err(|error| self.failed(error))
    }

    async fn import_ended(
        &self,
        seq: u32,
        activity: &ActivityReport,
    ) -> Result<(), CheckpointError> {
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
            .map_err(|error| self.failed(error))
    }

    async fn before_send(&self) -> Result<(), CheckpointError> {
        self.store
            .confirm_claim(&self.claim)
            .await
            .map_err(|error| self.failed(error))
    }

    async fn removed(&self, keys: &[u64]) -> Result<(), CheckpointError> {
        self.store
            .forget_members(
                &self.claim,
                self.ledger.export_id,
                self.ledger.list_id,
                keys,
            )
            .await
            .map_err(|error| self.failed(error))
    }

    async fn unsubscribed(
        &self,
        members: &[UnsubscribedMember],
    ) -> Result<Vec<Box<str>>, CheckpointError> {
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
            .map_err(|error| self.failed(error))?;
        let marked: HashSet<u64> = marked.into_iter().collect();
        Ok(members
            .iter()
            .filter(|member| marked.contains(&member.key))
            .map(|member| member.email.clone())
            .collect())
    }
}
