//! Runs of exports: queued, claimed by a worker, progressing, and ended with a report. At most
//! one run per export is queued or running at a time — a unique index says so, whatever the
//! number of nodes — and a run left running by a process that died is closed on start-up.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use segsync_domain::run_report::RunReport;
pub use segsync_domain::run_status::{RunPurpose, RunStatus, Trigger};
use segsync_domain::{GuardStop, RunProgress};

use crate::database::Store;
use crate::error::StoreError;
use crate::run_claims::{RunClaim, fence};
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: Uuid,
    pub export_id: Uuid,
    pub status: RunStatus,
    pub reason: Option<String>,
    pub trigger: Trigger,
    pub requested_by: Option<Uuid>,
    pub acting_user: Option<Uuid>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: Option<RunProgress>,
    pub report: Option<RunReport>,
    pub cancel_requested: bool,
    /// The process working on it, while it runs.
    pub node_id: Option<String>,
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Send every member, changed or not.
    pub full_resync: bool,
    /// Times the run was taken up again after its process died.
    pub resumed: u32,
    /// A deferred run is not claimed before this time.
    pub not_before: Option<DateTime<Utc>>,
    /// The number of the run's latest claim (0 before any).
    pub claim: i64,
    /// Why a guard stopped the run before it sent anything, with the numbers it judged.
    pub guard: Option<GuardStop>,
    /// The removals a person confirmed for this run (it may remove up to as many).
    pub confirmed_removals: Option<u64>,
    pub confirmed_by: Option<Uuid>,
    /// A sync run, or one that only reads the list back.
    pub purpose: RunPurpose,
}

/// One reading of an export's list: when, and how far the list had drifted from what the
/// export means it to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriftPoint {
    pub run_id: Uuid,
    pub at: DateTime<Utc>,
    pub missing: u64,
    pub extra: u64,
}

impl Run {
    /// The claim a worker that claimed this run holds.
    pub fn held_claim(&self) -> RunClaim {
        RunClaim {
            run_id: self.id,
            claim: self.claim,
        }
    }
}

/// Why a run could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the export already has a run {0} queued, running or awaiting confirmation")]
    AlreadyActive(Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub export_id: Option<Uuid>,
    pub status: Option<RunStatus>,
}

pub(crate) const COLUMNS: &str = "id, export_id, status, reason, triggered_by, requested_by, acting_user, queued_at, started_at, finished_at, progress, report, cancel_requested, node_id, heartbeat_at, full_resync, resumed, not_before, claim, guard, confirmed_removals, confirmed_by, purpose";

fn json_column(row: &AnyRow, column: &str) -> Result<Option<serde_json::Value>, StoreError> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|error| StoreError::Corrupt(format!("runs.{column}: {error}")))
    })
    .transpose()
}

pub(crate) fn run_from_row(row: &AnyRow) -> Result<Run, StoreError> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let trigger: String = row.try_get("triggered_by")?;
    let optional_uuid = |column: &str| -> Result<Option<Uuid>, StoreError> {
        row.try_get::<Option<String>, _>(column)?
            .as_deref()
            .map(parse_uuid)
            .transpose()
    };
    Ok(Run {
        id: parse_uuid(&id)?,
        export_id: parse_uuid(&row.try_get::<String, _>("export_id")?)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} has the status {status:?}")))?,
        reason: row.try_get("reason")?,
        trigger: Trigger::parse(&trigger)
            .ok_or_else(|| StoreError::Corrupt(format!("run {id} has the trigger {trigger:?}")))?,
        requested_by: optional_uuid("requested_by")?,
        acting_user: optional_uuid("acting_user")?,
        queued_at: from_millis(row.try_get("queued_at")?),
        started_at: row
            .try_get::<Option<i64>, _>("started_at")?
            .map(from_millis),
        finished_at: row
            .try_get::<Option<i64>, _>("finished_at")?
            .map(from_millis),
        progress: json_column(row, "progress")?
            .map(serde_json::from_value)
            .transpose()
            .map_err(|error| StoreError::Corrupt(format!("runs.progress: {error}")))?,
        report: json_column(row, "report")?
            .map(serde_json::from_value)
            .transpose()
            .map_err(|error| StoreError::Corrupt(format!("runs.report: {error}")))?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        node_id: row.try_get("node_id")?,
        heartbeat_at: row
            .try_get::<Option<i64>, _>("heartbeat_at")?
            .map(from_millis),
        full_resync: row.try_get::<i64, _>("full_resync")? != 0,
        resumed: row.try_get::<i64, _>("resumed")? as u32,
        not_before: row
            .try_get::<Option<i64>, _>("not_before")?
            .map(from_millis),
        claim: row.try_get("claim")?,
        guard: json_column(row, "guard")?
            .map(serde_json::from_value)
            .transpose()
            .map_err(|error| StoreError::Corrupt(format!("runs.guard: {error}")))?,
        confirmed_removals: row
            .try_get::<Option<i64>, _>("confirmed_removals")?
            .map(i64::unsigned_abs),
        confirmed_by: optional_uuid("confirmed_by")?,
        purpose: {
            let purpose: String = row.try_get("purpose")?;
            RunPurpose::parse(&purpose).ok_or_else(|| {
                StoreError::Corrupt(format!("run {id} has the purpose {purpose:?}"))
            })?
        },
    })
}

fn drift_from_row(row: &AnyRow) -> Result<DriftPoint, StoreError> {
    Ok(DriftPoint {
        run_id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        at: from_millis(row.try_get("finished_at")?),
        missing: row.try_get::<i64, _>("drift_missing")?.unsigned_abs(),
        extra: row.try_get::<i64, _>("drift_extra")?.unsigned_abs(),
    })
}

impl Store {
    /// Queues a run, unless the export has one queued or running: then that one's id comes back.
    pub async fn queue_run(
        &self,
        export_id: Uuid,
        trigger: Trigger,
        requested_by: Option<Uuid>,
        acting_user: Option<Uuid>,
    ) -> Result<Run, QueueError> {
        self.queue_run_with(export_id, trigger, requested_by, acting_user, false)
            .await
    }

    /// Queues a run, a full resync when `full_resync` (every member sent, changed or not).
    pub async fn queue_run_with(
        &self,
        export_id: Uuid,
        trigger: Trigger,
        requested_by: Option<Uuid>,
        acting_user: Option<Uuid>,
        full_resync: bool,
    ) -> Result<Run, QueueError> {
        self.queue(
            export_id,
            trigger,
            (requested_by, acting_user),
            full_resync,
            RunPurpose::Sync,
        )
        .await
    }

    /// Queues a run that only reads the export's list back, unless the export has a run
    /// queued, running or awaiting confirmation: then that one's id comes back.
    pub async fn queue_verification(
        &self,
        export_id: Uuid,
        trigger: Trigger,
        requested_by: Option<Uuid>,
        acting_user: Option<Uuid>,
    ) -> Result<Run, QueueError> {
        self.queue(
            export_id,
            trigger,
            (requested_by, acting_user),
            false,
            RunPurpose::Verify,
        )
        .await
    }

    async fn queue(
        &self,
        export_id: Uuid,
        trigger: Trigger,
        (requested_by, acting_user): (Option<Uuid>, Option<Uuid>),
        full_resync: bool,
        purpose: RunPurpose,
    ) -> Result<Run, QueueError> {
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO runs (id, export_id, status, triggered_by, requested_by, acting_user, queued_at, full_resync, purpose) VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(export_id.to_string())
        .bind(trigger.as_str())
        .bind(requested_by.map(|id| id.to_string()))
        .bind(acting_user.map(|id| id.to_string()))
        .bind(to_millis(Utc::now()))
        .bind(i64::from(full_resync))
        .bind(purpose.as_str())
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(self.run(id).await?),
            Err(error) if StoreError::is_unique_violation(&error) => {
                let active: String = sqlx::query_scalar(
                    "SELECT id FROM runs WHERE export_id = $1 AND status IN ('queued', 'running', 'awaiting_confirmation')",
                )
                .bind(export_id.to_string())
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::from)?;
                Err(QueueError::AlreadyActive(parse_uuid(&active)?))
            }
            Err(error) => Err(StoreError::from(error).into()),
        }
    }

    /// Records a run that did not happen, with the reason: it ends as Skipped at once.
    pub async fn record_skipped_run(
        &self,
        export_id: Uuid,
        trigger: Trigger,
        requested_by: Option<Uuid>,
        reason: &str,
    ) -> Result<Run, StoreError> {
        let id = Uuid::new_v4();
        let now = to_millis(Utc::now());
        sqlx::query(
            "INSERT INTO runs (id, export_id, status, reason, triggered_by, requested_by, queued_at, finished_at) VALUES ($1, $2, 'skipped', $3, $4, $5, $6, $6)",
        )
        .bind(id.to_string())
        .bind(export_id.to_string())
        .bind(reason)
        .bind(trigger.as_str())
        .bind(requested_by.map(|id| id.to_string()))
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.run(id).await
    }

    pub async fn run(&self, id: Uuid) -> Result<Run, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM runs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "run",
                key: id.to_string(),
            })?;
        run_from_row(&row)
    }

    /// An export's runs, newest first.
    pub async fn runs_of_export(
        &self,
        export_id: Uuid,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError> {
        self.runs(
            &RunFilter {
                export_id: Some(export_id),
                ..RunFilter::default()
            },
            limit,
            0,
        )
        .await
    }

    /// Runs matching `filter`, newest first, `limit` of them after skipping `offset`.
    pub async fn runs(
        &self,
        filter: &RunFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Run>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runs \
             WHERE ($1 IS NULL OR export_id = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY queued_at DESC, id LIMIT $3 OFFSET $4"
        ))
        .bind(filter.export_id.map(|id| id.to_string()))
        .bind(filter.status.map(RunStatus::as_str))
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// How many runs there are in each status.
    pub async fn count_runs_by_status(&self) -> Result<Vec<(RunStatus, u64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS runs FROM runs GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .filter_map(|row| {
                let status: String = match row.try_get("status") {
                    Ok(status) => status,
                    Err(error) => return Some(Err(error.into())),
                };
                let runs: i64 = match row.try_get("runs") {
                    Ok(runs) => runs,
                    Err(error) => return Some(Err(error.into())),
                };
                RunStatus::parse(&status).map(|status| Ok((status, runs.unsigned_abs())))
            })
            .collect()
    }

    /// Runs per UTC day and status, from `since` on: a run counts on the day it ended, or was
    /// queued while it has not ended. Days without runs are left out.
    pub async fn runs_per_day(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(NaiveDate, RunStatus, u64)>, StoreError> {
        const DAY_MS: i64 = 86_400_000;
        let rows = sqlx::query(
            "SELECT COALESCE(finished_at, queued_at) / 86400000 AS day, status, COUNT(*) AS runs \
             FROM runs WHERE COALESCE(finished_at, queued_at) >= $1 \
             GROUP BY COALESCE(finished_at, queued_at) / 86400000, status ORDER BY day, status",
        )
        .bind(to_millis(since))
        .fetch_all(&self.pool)
        .await?;
        let mut days = Vec::with_capacity(rows.len());
        for row in &rows {
            let day: i64 = row.try_get("day")?;
            let status: String = row.try_get("status")?;
            let runs: i64 = row.try_get("runs")?;
            let Some(status) = RunStatus::parse(&status) else {
                return Err(StoreError::Corrupt(format!("runs.status: {status:?}")));
            };
            let day = from_millis(day * DAY_MS).date_naive();
            days.push((day, status, runs.unsigned_abs()));
        }
        Ok(days)
    }

    /// The newest run of every export that has run.
    pub async fn latest_runs(&self) -> Result<Vec<Run>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runs AS r WHERE queued_at = \
             (SELECT MAX(queued_at) FROM runs WHERE export_id = r.export_id)"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Takes the oldest queued run for a worker of the process `node_id`. Two workers never get
    /// the same run: the update only succeeds while the run is still queued.
    pub async fn claim_next_run(&self, node_id: &str) -> Result<Option<Run>, StoreError> {
        loop {
            let now = to_millis(Utc::now());
            let candidate: Option<String> = sqlx::query_scalar(
                "SELECT id FROM runs WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $1) ORDER BY queued_at LIMIT 1",
            )
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            let Some(id) = candidate else { return Ok(None) };
            let claimed = sqlx::query("UPDATE runs SET status = 'running', started_at = $1, heartbeat_at = $1, node_id = $2, claim = claim + 1 WHERE id = $3 AND status = 'queued'")
                .bind(now)
                .bind(node_id)
                .bind(&id)
                .execute(&self.pool)
                .await?;
            if claimed.rows_affected() == 1 {
                return self.run(parse_uuid(&id)?).await.map(Some);
            }
        }
    }

    /// Writes a running run's progress, which also says that its worker is alive. Returns
    /// whether someone asked the run to stop; `ClaimLost` once the claim is no longer current.
    pub async fn set_run_progress(
        &self,
        claim: &RunClaim,
        progress: &RunProgress,
    ) -> Result<bool, StoreError> {
        let progress = serde_json::to_string(progress).expect("progress serialises");
        let held = sqlx::query("UPDATE runs SET progress = $1, heartbeat_at = $2 WHERE id = $3 AND claim = $4 AND status = 'running'")
            .bind(progress)
            .bind(to_millis(Utc::now()))
            .bind(claim.run_id.to_string())
            .bind(claim.claim)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1;
        if !held {
            return Err(StoreError::ClaimLost {
                run_id: claim.run_id,
            });
        }
        let cancel: i64 = sqlx::query_scalar("SELECT cancel_requested FROM runs WHERE id = $1")
            .bind(claim.run_id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(cancel != 0)
    }

    /// Ends a claimed run with its status, reason and report, once: `ClaimLost` when the claim
    /// is no longer current (the run was taken over, or closed by someone else).
    pub async fn finish_run(
        &self,
        claim: &RunClaim,
        status: RunStatus,
        reason: Option<&str>,
        report: Option<&RunReport>,
    ) -> Result<(), StoreError> {
        let drift = report.and_then(|report| report.verification.as_ref());
        let done = sqlx::query(
            "UPDATE runs SET status = $1, reason = $2, report = $3, finished_at = $4, drift_missing = $7, drift_extra = $8 WHERE id = $5 AND claim = $6 AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(report.map(|report| serde_json::to_string(report).expect("a report serialises")))
        .bind(to_millis(Utc::now()))
        .bind(claim.run_id.to_string())
        .bind(claim.claim)
        .bind(drift.map(|drift| drift.missing as i64))
        .bind(drift.map(|drift| drift.extra as i64))
        .execute(&self.pool)
        .await?;
        claim_held(done.rows_affected(), claim)
    }

    /// The export's drift as its list was read, newest first, at most `limit` readings.
    pub async fn drift_of_export(
        &self,
        export_id: Uuid,
        limit: u32,
    ) -> Result<Vec<DriftPoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, finished_at, drift_missing, drift_extra FROM runs WHERE export_id = $1 AND drift_missing IS NOT NULL ORDER BY finished_at DESC LIMIT $2",
        )
        .bind(export_id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(drift_from_row).collect()
    }

    /// Each export's latest reading of its list, by export.
    pub async fn latest_drift(&self) -> Result<Vec<(Uuid, DriftPoint)>, StoreError> {
        let rows = sqlx::query(
            "SELECT export_id, id, finished_at, drift_missing, drift_extra FROM runs r WHERE drift_missing IS NOT NULL \
             AND finished_at = (SELECT max(finished_at) FROM runs l WHERE l.export_id = r.export_id AND l.drift_missing IS NOT NULL)",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let export_id = parse_uuid(&row.try_get::<String, _>("export_id")?)?;
                Ok((export_id, drift_from_row(row)?))
            })
            .collect()
    }

    /// When the export's list was last read back, by a run that succeeded.
    pub async fn last_verified_at(
        &self,
        export_id: Uuid,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT max(finished_at) FROM runs WHERE export_id = $1 AND drift_missing IS NOT NULL",
        )
        .bind(export_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(at.map(from_millis))
    }

    /// Stops a claimed run that a guard stopped before it sent anything: it waits for a person,
    /// holding its export, with `reason` and the guard's numbers. `ClaimLost` when the claim is
    /// no longer current.
    pub async fn await_confirmation(
        &self,
        claim: &RunClaim,
        reason: &str,
        guard: &GuardStop,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'awaiting_confirmation', reason = $1, guard = $2, finished_at = $3, node_id = NULL, heartbeat_at = NULL \
             WHERE id = $4 AND claim = $5 AND status = 'running'",
        )
        .bind(reason)
        .bind(serde_json::to_string(guard).expect("a guard stop serialises"))
        .bind(to_millis(Utc::now()))
        .bind(claim.run_id.to_string())
        .bind(claim.claim)
        .execute(&self.pool)
        .await?;
        claim_held(done.rows_affected(), claim)
    }

    /// Queues again a run awaiting confirmation, now allowed to remove up to `removals`
    /// (confirmed by `by`). Returns false when the run no longer awaits confirmation.
    pub async fn confirm_run(&self, id: Uuid, by: Uuid, removals: u64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', confirmed_removals = $1, confirmed_by = $2, finished_at = NULL, reason = NULL \
             WHERE id = $3 AND status = 'awaiting_confirmation'",
        )
        .bind(i64::try_from(removals).unwrap_or(i64::MAX))
        .bind(by.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a run awaiting confirmation as Cancelled, with `reason`. Returns false when the run
    /// no longer awaits confirmation.
    pub async fn discard_run(&self, id: Uuid, reason: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'cancelled', reason = $1, finished_at = $2 WHERE id = $3 AND status = 'awaiting_confirmation'",
        )
        .bind(reason)
        .bind(to_millis(Utc::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The profiles in the segments at the export's last successful run: what the member-drop
    /// guard compares with.
    pub async fn members_at_last_success(
        &self,
        export_id: Uuid,
    ) -> Result<Option<u64>, StoreError> {
        let report: Option<Option<String>> = sqlx::query_scalar(
            "SELECT report FROM runs WHERE export_id = $1 AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1",
        )
        .bind(export_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(Some(report)) = report else {
            return Ok(None);
        };
        let report: RunReport = serde_json::from_str(&report)
            .map_err(|error| StoreError::Corrupt(format!("runs.report: {error}")))?;
        Ok(Some(report.profiles_in_segments))
    }

    /// Puts a running run back in the queue, not to be claimed before `not_before`, with why.
    pub async fn defer_run(
        &self,
        claim: &RunClaim,
        not_before: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', not_before = $2, reason = $3, node_id = NULL, heartbeat_at = NULL WHERE id = $1 AND claim = $4 AND status = 'running'",
        )
        .bind(claim.run_id.to_string())
        .bind(to_millis(not_before))
        .bind(reason)
        .bind(claim.claim)
        .execute(&self.pool)
        .await?;
        claim_held(done.rows_affected(), claim)
    }

    /// Ends a run that no worker has claimed yet as Cancelled. Returns false once it is claimed.
    pub async fn cancel_queued_run(&self, id: Uuid, reason: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'cancelled', reason = $1, finished_at = $2 WHERE id = $3 AND status = 'queued'",
        )
        .bind(reason)
        .bind(to_millis(Utc::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Asks a run to stop; its worker sees the flag between batches.
    pub async fn request_cancel(&self, id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE runs SET cancel_requested = 1 WHERE id = $1 AND status IN ('queued', 'running')")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a claimed run back in the queue, to resume where it stopped: its process is
    /// stopping.
    pub async fn requeue_run(&self, claim: &RunClaim) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', resumed = resumed + 1, node_id = NULL, heartbeat_at = NULL WHERE id = $1 AND claim = $2 AND status = 'running'",
        )
        .bind(claim.run_id.to_string())
        .bind(claim.claim)
        .execute(&self.pool)
        .await?;
        claim_held(done.rows_affected(), claim)
    }

    /// Takes up again every running run whose worker last said it was alive before
    /// `silent_since`: it goes back to the queue, to be resumed by whichever worker claims it,
    /// unless it was already resumed `max_resumes` times — then it is closed as Failed with
    /// `reason`. Returns how many were queued again and how many closed.
    pub async fn requeue_interrupted_runs(
        &self,
        reason: &str,
        silent_since: DateTime<Utc>,
        max_resumes: u32,
    ) -> Result<(u64, u64), StoreError> {
        let silent = "status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < $1)";
        let failed = sqlx::query(&format!(
            "UPDATE runs SET status = 'failed', reason = $2, finished_at = $3 WHERE {silent} AND resumed >= $4"
        ))
        .bind(to_millis(silent_since))
        .bind(reason)
        .bind(to_millis(Utc::now()))
        .bind(i64::from(max_resumes))
        .execute(&self.pool)
        .await?;
        let requeued = sqlx::query(&format!(
            "UPDATE runs SET status = 'queued', resumed = resumed + 1, node_id = NULL, heartbeat_at = NULL WHERE {silent}"
        ))
        .bind(to_millis(silent_since))
        .execute(&self.pool)
        .await?;
        Ok((requeued.rows_affected(), failed.rows_affected()))
    }

    /// Adds members a run left out, in one transaction.
    pub async fn add_run_skips(
        &self,
        claim: &RunClaim,
        skips: &[(String, String)],
    ) -> Result<(), StoreError> {
        /// Rows per statement: three parameters each, well within both databases' limits.
        const ROWS: usize = 300;
        let run_id = claim.run_id;
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        for chunk in skips.chunks(ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|row| format!("(${}, ${}, ${})", row * 3 + 1, row * 3 + 2, row * 3 + 3))
                .collect();
            let sql = format!(
                "INSERT INTO run_skips (run_id, email, reason) VALUES {}",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for (email, reason) in chunk {
                query = query.bind(run_id.to_string()).bind(email).bind(reason);
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Forgets the members a run left out, before a resumed run lists them again.
    pub async fn clear_run_skips(&self, claim: &RunClaim) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        sqlx::query("DELETE FROM run_skips WHERE run_id = $1")
            .bind(claim.run_id.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// A page of the members a run left out, in (email, reason) order: `limit` of them after
    /// the first `offset`. Each page is one query, so no connection is held between pages.
    pub async fn run_skips_page(
        &self,
        run_id: Uuid,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT email, reason FROM run_skips WHERE run_id = $1 \
             ORDER BY email, reason LIMIT $2 OFFSET $3",
        )
        .bind(run_id.to_string())
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("email")?, row.try_get("reason")?)))
            .collect()
    }

    /// The members a run left out.
    pub async fn run_skips(&self, run_id: Uuid) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT email, reason FROM run_skips WHERE run_id = $1")
            .bind(run_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("email")?, row.try_get("reason")?)))
            .collect()
    }
}

/// `Ok` when a write under `claim` changed its run, `ClaimLost` when the claim had lapsed.
fn claim_held(rows_affected: u64, claim: &RunClaim) -> Result<(), StoreError> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(StoreError::ClaimLost {
            run_id: claim.run_id,
        })
    }
}
