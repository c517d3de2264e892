//! Each import of a run, checkpointed: planned before it is sent, sent once Constant Contact
//! accepted it (and its members remembered in the ledger in the same transaction), then
//! completed or failed. A run interrupted anywhere leaves at most one import whose fate is
//! unknown — planned, perhaps sent — which the resuming process settles.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::ledger::SentMember;
use crate::run_claims::{RunClaim, fence};
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    Planned,
    Sent,
    Completed,
    Failed,
}

impl BatchState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Sent => "sent",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Planned, Self::Sent, Self::Completed, Self::Failed]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunBatch {
    pub run_id: Uuid,
    pub seq: u32,
    pub state: BatchState,
    pub planned_at: DateTime<Utc>,
    pub activity_id: Option<Uuid>,
    pub contacts: u64,
    /// Constant Contact's counters once the activity ended.
    pub counters: Option<serde_json::Value>,
}

/// Where a run's imports go in the ledger.
#[derive(Debug, Clone, Copy)]
pub struct LedgerOf {
    pub export_id: Uuid,
    pub list_id: Uuid,
}

impl Store {
    /// Writes import `seq` down before it is sent, with its members.
    pub async fn plan_batch(
        &self,
        claim: &RunClaim,
        seq: u32,
        members: &[SentMember],
    ) -> Result<(), StoreError> {
        let members_json = serde_json::to_string(members).expect("members serialise");
        let run_id = claim.run_id;
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        sqlx::query(
            "INSERT INTO run_batches (run_id, seq, state, planned_at, contacts, members) VALUES ($1, $2, 'planned', $3, $4, $5)",
        )
        .bind(run_id.to_string())
        .bind(i64::from(seq))
        .bind(to_millis(Utc::now()))
        .bind(members.len() as i64)
        .bind(members_json)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Import `seq` was accepted as `activity_id`: it is sent, and its members are remembered,
    /// both or neither.
    pub async fn batch_sent(
        &self,
        claim: &RunClaim,
        seq: u32,
        activity_id: Uuid,
        ledger: LedgerOf,
        members: &[SentMember],
    ) -> Result<(), StoreError> {
        let run_id = claim.run_id;
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        sqlx::query(
            "UPDATE run_batches SET state = 'sent', activity_id = $3 WHERE run_id = $1 AND seq = $2",
        )
        .bind(run_id.to_string())
        .bind(i64::from(seq))
        .bind(activity_id.to_string())
        .execute(&mut *transaction)
        .await?;
        Store::remember_sent_in(
            &mut transaction,
            ledger.export_id,
            ledger.list_id,
            run_id,
            members,
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Import `seq`'s activity ended. When it did not complete, its members are marked to be
    /// sent again. The members kept for settling are dropped either way.
    pub async fn batch_ended(
        &self,
        claim: &RunClaim,
        seq: u32,
        completed: bool,
        counters: &serde_json::Value,
        ledger: LedgerOf,
    ) -> Result<(), StoreError> {
        let state = if completed {
            BatchState::Completed
        } else {
            BatchState::Failed
        };
        let run_id = claim.run_id;
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        sqlx::query(
            "UPDATE run_batches SET state = $3, counters = $4 WHERE run_id = $1 AND seq = $2",
        )
        .bind(run_id.to_string())
        .bind(i64::from(seq))
        .bind(state.as_str())
        .bind(counters.to_string())
        .execute(&mut *transaction)
        .await?;
        if !completed {
            let members: Option<String> = sqlx::query_scalar(
                "SELECT members FROM run_batches WHERE run_id = $1 AND seq = $2",
            )
            .bind(run_id.to_string())
            .bind(i64::from(seq))
            .fetch_optional(&mut *transaction)
            .await?
            .flatten();
            let members: Vec<SentMember> = members
                .map(|text| parse_members(&text))
                .transpose()?
                .unwrap_or_default();
            let keys: Vec<u64> = members.iter().map(|member| member.email_key).collect();
            Store::resend_in(&mut transaction, ledger.export_id, ledger.list_id, &keys).await?;
        }
        sqlx::query("UPDATE run_batches SET members = NULL WHERE run_id = $1 AND seq = $2")
            .bind(run_id.to_string())
            .bind(i64::from(seq))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Settles an import whose fate was unknown: without Constant Contact's word that it was
    /// accepted, it is dropped and its members are sent again.
    pub async fn drop_unsent_batch(&self, claim: &RunClaim, seq: u32) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        sqlx::query("DELETE FROM run_batches WHERE run_id = $1 AND seq = $2 AND state = 'planned'")
            .bind(claim.run_id.to_string())
            .bind(i64::from(seq))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The members a planned import carried, to settle it.
    pub async fn batch_members(
        &self,
        run_id: Uuid,
        seq: u32,
    ) -> Result<Vec<SentMember>, StoreError> {
        let members: Option<String> =
            sqlx::query_scalar("SELECT members FROM run_batches WHERE run_id = $1 AND seq = $2")
                .bind(run_id.to_string())
                .bind(i64::from(seq))
                .fetch_optional(&self.pool)
                .await?
                .flatten();
        Ok(members
            .map(|text| parse_members(&text))
            .transpose()?
            .unwrap_or_default())
    }

    /// A run's imports, in order.
    pub async fn run_batches(&self, run_id: Uuid) -> Result<Vec<RunBatch>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, seq, state, planned_at, activity_id, contacts, counters FROM run_batches WHERE run_id = $1 ORDER BY seq",
        )
        .bind(run_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get("state")?;
                Ok(RunBatch {
                    run_id: parse_uuid(&row.try_get::<String, _>("run_id")?)?,
                    seq: row.try_get::<i64, _>("seq")? as u32,
                    state: BatchState::parse(&state).ok_or_else(|| {
                        StoreError::Corrupt(format!("{state:?} is not a run batch state"))
                    })?,
                    planned_at: from_millis(row.try_get("planned_at")?),
                    activity_id: row
                        .try_get::<Option<String>, _>("activity_id")?
                        .as_deref()
                        .map(parse_uuid)
                        .transpose()?,
                    contacts: row.try_get::<i64, _>("contacts")? as u64,
                    counters: row
                        .try_get::<Option<String>, _>("counters")?
                        .map(|text| {
                            serde_json::from_str(&text).map_err(|error| {
                                StoreError::Corrupt(format!("run batch counters: {error}"))
                            })
                        })
                        .transpose()?,
                })
            })
            .collect()
    }
}

fn parse_members(text: &str) -> Result<Vec<SentMember>, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::Corrupt(format!("run batch members: {error}")))
}
