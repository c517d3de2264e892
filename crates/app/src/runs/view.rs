//! A run as the API and the console show it.

use chrono::{DateTime, Utc};
use segsync_domain::run_report::RunReport;
use segsync_domain::{GuardStop, RunProgress};
use segsync_store::{Run, RunPurpose, RunStatus, Trigger};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: Uuid,
    pub export_id: Uuid,
    /// The export's name, when it still exists.
    pub export_name: Option<String>,
    pub status: RunStatus,
    pub reason: Option<String>,
    pub trigger: Trigger,
    pub requested_by: Option<Uuid>,
    /// The connection's export user, whom the run acts as.
    pub acting_user: Option<Uuid>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// While it runs: phase, members counted and processed, contacts and imports sent.
    pub progress: Option<RunProgress>,
    /// When it has ended: the report that accounts for every profile.
    pub report: Option<RunReport>,
    pub cancel_requested: bool,
    /// Every member sent, changed or not.
    pub full_resync: bool,
    /// Times the run was taken up again after its process died.
    pub resumed: u32,
    /// Why a guard stopped the run before it sent anything (awaiting confirmation, or after),
    /// with the numbers it judged.
    pub guard: Option<GuardStop>,
    /// The removals a person confirmed, and who.
    pub confirmed_removals: Option<u64>,
    pub confirmed_by: Option<Uuid>,
    /// `sync`, or `verify` for a run that only reads the list back (its report's
    /// `verification` says what it found).
    pub purpose: RunPurpose,
}

impl RunView {
    pub fn of(run: Run, export_name: Option<String>) -> Self {
        Self {
            id: run.id,
            export_id: run.export_id,
            export_name,
            status: run.status,
            reason: run.reason,
            trigger: run.trigger,
            requested_by: run.requested_by,
            acting_user: run.acting_user,
            queued_at: run.queued_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            progress: run.progress,
            report: run.report,
            cancel_requested: run.cancel_requested,
            full_resync: run.full_resync,
            resumed: run.resumed,
            guard: run.guard,
            confirmed_removals: run.confirmed_removals,
            confirmed_by: run.confirmed_by,
            purpose: run.purpose,
        }
    }
}

/// What "Run all" did: the runs it queued, and those it recorded as skipped with the reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunAllView {
    pub queued: Vec<RunView>,
    pub skipped: Vec<RunView>,
}

/// How to run an export.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
pub struct RunOptions {
    /// Send every member, changed or not (those known unsubscribed excepted), instead of only
    /// those new or changed since the export last sent them.
    #[serde(default)]
    pub full_resync: bool,
}
