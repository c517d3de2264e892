//! One export run, phase by phase: plan, count, send, poll, settle unsubscribed contacts,
//! remove leavers (mirror mode), report. Each phase is a function with its inputs and outputs;
//! `run_export_in_step` only calls them in order.
//!
//! Members flow as Arrow batches from DataFusion into the contact builder, which fills import
//! bodies; a full body goes through a channel of one to the sender, so at most a couple of
//! imports exist at once however large the segments are.

mod count;
mod ending;
mod list_upkeep;
mod poll;
mod send;
mod sorting;

use std::time::Instant;

use chrono::Utc;
use constant_contact::ConstantContact;
use segsync_engine::Profiles;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::checkpoints::{Checkpoints, NoCheckpoints};
use crate::error::ExportError;
use crate::failure::ExportFailure;
use crate::list_members::ListSnapshot;
use crate::plan::ExportPlan;
use crate::progress::Progress;
use crate::report::{RunReport, source_read};

use crate::sync::{Ledger, SyncMode};

/// Runs an export as if it had never run before: every member is sent, nothing is remembered.
pub async fn run_export(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    progress: &dyn Progress,
    cancel: &CancellationToken,
) -> Result<RunEnded, ExportError> {
    run_export_in_step(
        profiles,
        plan,
        client,
        Ledger::new(),
        &NoCheckpoints,
        progress,
        cancel,
    )
    .await
}

/// Runs an export against what it sent before (`ledger`): only new and changed members are sent,
/// in the plan's sync mode, and every step is written down through `checkpoints`. Problems
/// found before anything is sent (a bad segment, too many members, a missing list, not enough
/// quota) are errors; once sending starts, the report tells what happened, including failures
/// and cancellation.
pub async fn run_export_in_step(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    ledger: Ledger,
    checkpoints: &impl Checkpoints,
    progress: &dyn Progress,
    cancel: &CancellationToken,
) -> Result<RunEnded, ExportError> {
    let started_at = Utc::now();
    let requests_before = client.requests_sent();
    let mut phases = Phases::default();
    let run = Run {
        profiles,
        plan,
        client,
        checkpoints,
        progress,
        cancel,
    };

    progress.phase("planning");
    let planned = plan_run(&run).await?;
    let list_members_at_start = planned.list_members;
    phases.end("planning");

    progress.phase("counting");
    let counted = count::count(&run, &planned, ledger).await?;
    progress.members_total(counted.profiles.in_segments);
    phases.end("counting");

    progress.phase("sending");
    let mut streamed =
        send::send(&run, planned, counted.ledger, counted.profiles.in_segments).await?;
    phases.end("sending");

    progress.phase("polling");
    let polled = poll::poll(&run, &streamed.sent).await;
    phases.end("polling");

    let unsubscribed = if polled.cannot_add_to_list() {
        progress.phase("reading unsubscribed contacts");
        let found = list_upkeep::settle_unsubscribed(&run).await;
        phases.end("reading unsubscribed contacts");
        found
    } else {
        Ok(Vec::new())
    };

    let removals = if plan.mode == SyncMode::Mirror && streamed.complete() && polled.complete() {
        progress.phase("removing");
        let list = streamed.sent.list.take();
        let removed = list_upkeep::remove_leavers(&run, &streamed.sorter.ledger, list).await;
        phases.end("removing");
        removed
    } else {
        list_upkeep::Removals::default()
    };

    let ended = ending::report(ending::Ended {
        plan,
        started_at,
        profiles: &counted.profiles,
        source: source_read(profiles),
        streamed,
        polled,
        unsubscribed,
        removals,
        requests_used: client.requests_sent() - requests_before,
        phases: phases.done,
        list_members_at_start,
    });
    let report = &ended.report;
    info!(list_id = %plan.list_id, sent = report.sent, removed = report.removed, requests = report.requests_used, "Export run finished.");
    Ok(ended)
}

/// A run that got as far as sending: its report, and the failure that ended it if one did
/// (the report's outcome says it in words; the run engine acts on the failure itself).
#[derive(Debug)]
pub struct RunEnded {
    pub report: RunReport,
    pub failure: Option<ExportFailure>,
}

/// What every phase of one run works with.
pub(crate) struct Run<'a, C> {
    pub(crate) profiles: &'a Profiles,
    pub(crate) plan: &'a ExportPlan,
    pub(crate) client: &'a ConstantContact,
    pub(crate) checkpoints: &'a C,
    pub(crate) progress: &'a dyn Progress,
    pub(crate) cancel: &'a CancellationToken,
}

impl<C> Clone for Run<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Run<'_, C> {}

/// What planning found: each segment's membership, and the list as it is when the run updates
/// only members already on it.
pub(crate) struct Planned {
    pub(crate) segments: Vec<(String, segsync_engine::Membership)>,
    pub(crate) on_list: Option<ListSnapshot>,
    /// The list's member count as Constant Contact gave it.
    pub(crate) list_members: Option<u64>,
}

/// Plan: the segments compiled over the profiles, the list and the mapping's custom fields
/// checked (a clear error when one does not exist), and, in update-only mode, the list's members read.
async fn plan_run<C>(run: &Run<'_, C>) -> Result<Planned, ExportError> {
    let Run {
        profiles,
        plan,
        client,
        ..
    } = *run;
    let segments = plan.segment_exprs(profiles)?;
    let list = plan.check_list(client).await?;
    plan.check_custom_fields(client).await?;
    let on_list = if plan.mode == SyncMode::UpdateOnly {
        Some(ListSnapshot::read(client, plan.list_id).await?)
    } else {
        None
    };
    Ok(Planned {
        segments,
        on_list,
        list_members: list.membership_count,
    })
}

/// Wall time per phase.
struct Phases {
    since: Instant,
    done: Vec<(String, f64)>,
}

impl Default for Phases {
    fn default() -> Self {
        Self {
            since: Instant::now(),
            done: Vec::new(),
        }
    }
}

impl Phases {
    fn end(&mut self, phase: &str) {
        self.done
            .push((phase.to_owned(), self.since.elapsed().as_secs_f64()));
        self.since = Instant::now();
    }
}
