//! Fencing: a run's progress, checkpoints and ending are written only by the worker holding its
//! current claim. Each claim of a run has a number of its own; a worker whose claim lapsed (it
//! stalled past the reaper, or lost the store for a while) finds every write refused with
//! [`StoreError::ClaimLost`] and stops, so a run taken over by another node is never written
//! by two.

use chrono::Utc;
use sqlx::AnyConnection;
use uuid::Uuid;

use crate::error::StoreError;
use crate::time::to_millis;

/// The claim a worker holds on a running run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunClaim {
    pub run_id: Uuid,
    /// The number of the claim: every claim of the run takes the next.
    pub claim: i64,
}

impl crate::database::Store {
    /// Checks that `claim` is still the run's current one, and says that its worker is alive.
    pub async fn confirm_claim(&self, claim: &RunClaim) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        fence(&mut connection, claim).await
    }
}

/// Checks, inside the caller's write transaction, that `claim` is still the run's current one,
/// and says that its worker is alive. The row stays locked until the transaction ends, so no
/// reaper takes the run over between this check and the caller's commit.
pub(crate) async fn fence(
    connection: &mut AnyConnection,
    claim: &RunClaim,
) -> Result<(), StoreError> {
    let held = sqlx::query(
        "UPDATE runs SET heartbeat_at = $1 WHERE id = $2 AND claim = $3 AND status = 'running'",
    )
    .bind(to_millis(Utc::now()))
    .bind(claim.run_id.to_string())
    .bind(claim.claim)
    .execute(connection)
    .await?
    .rows_affected()
        == 1;
    if held {
        Ok(())
    } else {
        Err(StoreError::ClaimLost {
            run_id: claim.run_id,
        })
    }
}
