//! Carrying out one claimed run, as its phases: prepare (the plan from the stored export),
//! take up (the ledger, and what an earlier attempt left), supervise the export (its progress
//! written every second, the shutdown, the time budget, a lapsed claim), decide the ending, and
//! store it. Whatever happens, the run ends; it never stays Running.
//!
//! This is the one path of a run: the workers take it for the server's exports
//! ([`RunEngine`]'s stored exports, prepared by [`RunEngine::prepare`]), and the command line
//! takes it with its state file and the plan of its configuration ([`carry_out`]). A dry run
//! has one path too ([`dry_run`]).

mod opt_outs;
mod perform;
mod prepare;
mod progress_writer;
mod read_back;
mod source_versions;

use segsync_domain::ChainExt;
use std::time::Duration;

use segsync_export::{DryRunReport, ExportError, NoProgress, Progress, RunReport};
use segsync_store::{Connection, Run, RunStatus, Store, StoreError};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use uuid::Uuid;

pub use prepare::Prepared;
pub use read_back::ReadBackError;
pub use source_versions::SourceVersions;

use crate::RunEngine;
use crate::failure::{Disposition, RunFailure};

/// How often a running run's progress (and so its heartbeat) is written.
pub(crate) const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// How a run ends.
#[derive(Debug)]
pub(crate) enum Ending {
    Succeeded(RunReport),
    /// It did not succeed: the failure says whether it ends (and with which status) or waits.
    NotSucceeded {
        failure: RunFailure,
        report: Option<RunReport>,
    },
    /// The server is stopping: it resumes at the next start (or on another node). The report
    /// says what this attempt sent.
    Resume(RunReport),
    /// The worker's claim lapsed and another worker has the run: this one writes nothing more.
    TakenOver,
}

impl Ending {
    fn failed(failure: impl Into<RunFailure>) -> Self {
        Self::NotSucceeded {
            failure: failure.into(),
            report: None,
        }
    }

    /// Masks the addresses the report and guard sample.
    fn mask_samples(&mut self) {
        match self {
            Self::Succeeded(report)
            | Self::Resume(report)
            | Self::NotSucceeded {
                report: Some(report),
                ..
            } => report.mask_samples(),
            _ => {}
        }
        if let Self::NotSucceeded { failure, .. } = self {
            failure.mask_samples();
        }
    }

    fn report(&self) -> Option<&RunReport> {
        match self {
            Self::Succeeded(report)
            | Self::Resume(report)
            | Self::NotSucceeded {
                report: Some(report),
                ..
            } => Some(report),
            _ => None,
        }
    }
}

/// Where a run's checkpoints, progress and ending go, and what it may spend.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub store: Store,
    /// The API key (client ID) whose daily budget of requests the run spends.
    pub api_key: String,
    pub requests_per_day: u64,
    /// How long the run may take before it stops after its batch in flight.
    pub time_budget: Duration,
    /// How long past its time budget the batch in flight may take before the run is abandoned.
    pub stop_grace: Duration,
    /// Where the opt-outs learned are appended, if anywhere.
    pub opt_outs_write_to: Option<segsync_engine::ProfileSource>,
    /// Whole addresses in the reports' samples; masked otherwise.
    pub full_samples: bool,
}

impl RunEngine {
    /// What the engine's runs are carried out with.
    pub fn context(&self) -> RunContext {
        let api = self.clients.api();
        RunContext {
            store: self.store.clone(),
            api_key: api.client_id.clone(),
            requests_per_day: u64::from(api.daily_quota),
            time_budget: Duration::from_secs(self.settings.runs.max_run_seconds),
            stop_grace: Duration::from_secs(self.settings.runs.shutdown_grace_seconds),
            opt_outs_write_to: self.settings.opt_outs_write_to.clone(),
            full_samples: self.settings.full_samples,
        }
    }
}

/// Carries out `run` of a stored export to its end. `stopping` is cancelled when the server
/// shuts down: the run then ends its batch in flight and stops.
pub(crate) async fn execute(engine: &RunEngine, run: Run, stopping: &CancellationToken) {
    info!(run = %run.id, export = %run.export_id, claim = run.claim, "A run starts.");
    let context = engine.context();
    match engine.prepare_run(&run).await {
        Ok(prepared) => {
            Box::pin(carry_out(&context, run, &prepared, &NoProgress, stopping)).await;
        }
        Err(failure) => store_ending(&context, &run, Ending::failed(failure)).await,
    }
}

/// Carries out a claimed, prepared run to its end and stores the ending: the run has ended,
/// waits (for the quota's reset, or to resume after `stopping`), or was taken over. `watcher`
/// sees the progress as it happens, besides the store.
pub async fn carry_out(
    context: &RunContext,
    run: Run,
    prepared: &Prepared,
    watcher: &dyn Progress,
    stopping: &CancellationToken,
) {
    let ending = Box::pin(perform::perform(context, &run, prepared, watcher, stopping)).await;
    if let Some(report) = ending.report() {
        metrics::counter!("segsync_members_sent_total").increment(report.sent);
    }
    store_ending(context, &run, ending).await;
}

/// What a run would do, sending nothing, against what the export sent before (its ledger in
/// `store`), with every member sent again when `full_resync`.
pub async fn dry_run(
    store: &Store,
    prepared: &Prepared,
    full_resync: bool,
) -> Result<DryRunReport, DryRunError> {
    // No run is going on: nothing in the ledger was sent by it.
    let ledger = crate::ledger::load_ledger(store, prepared.ledger_of, Uuid::nil()).await?;
    let members_before = store
        .members_at_last_success(prepared.ledger_of.export_id)
        .await?;
    let plan = prepared
        .plan
        .clone()
        .with_full_resync(full_resync)
        .with_members_before(members_before);
    Ok(
        segsync_export::dry_run_in_step(&prepared.profiles, &plan, &prepared.client, ledger)
            .await?,
    )
}

/// Why a dry run could not say what a run would do.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    #[error("reading what the export sent before")]
    Ledger(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Writes the ending to the store, under the run's claim.
async fn store_ending(context: &RunContext, run: &Run, mut ending: Ending) {
    if !context.full_samples {
        ending.mask_samples();
    }
    let claim = run.held_claim();
    let store = &context.store;
    let (stored, status) = match ending {
        Ending::TakenOver => {
            warn!(run = %run.id, claim = run.claim, "The run was taken over by another worker after this one's claim lapsed; this one stopped and writes nothing more.");
            return;
        }
        Ending::Resume(_) => {
            let stored = store.requeue_run(&claim).await;
            if stored.is_ok() {
                info!(run = %run.id, "The server is stopping: the run goes back to the queue and resumes where it stopped.");
            }
            (stored, None)
        }
        Ending::Succeeded(report) => {
            let stored = store
                .finish_run(&claim, RunStatus::Succeeded, None, Some(&report))
                .await;
            (stored, Some((RunStatus::Succeeded, String::new())))
        }
        Ending::NotSucceeded { failure, report } => {
            let reason = failure.chain().to_string();
            match failure.disposition() {
                Disposition::AwaitConfirmation(stop) => {
                    let stored = store.await_confirmation(&claim, &reason, stop).await;
                    (stored, Some((RunStatus::AwaitingConfirmation, reason)))
                }
                Disposition::WaitUntil(until) => {
                    let stored = store.defer_run(&claim, until, &reason).await;
                    if stored.is_ok() {
                        info!(run = %run.id, %until, reason, "The run waits for the quota to reset.");
                    }
                    (stored, None)
                }
                Disposition::End(status) => {
                    let stored = store
                        .finish_run(&claim, status, Some(&reason), report.as_ref())
                        .await;
                    (stored, Some((status, reason)))
                }
            }
        }
    };
    match stored {
        Ok(()) => {
            if let Some((status, reason)) = status {
                metrics::counter!("segsync_runs_finished_total", "status" => status.as_str())
                    .increment(1);
                info!(run = %run.id, status = status.as_str(), reason, "A run ended.");
            }
        }
        Err(StoreError::ClaimLost { .. }) => {
            warn!(run = %run.id, "The run was taken over by another worker before this one could end it; its ending is left to that one.");
        }
        Err(error) => {
            error!(run = %run.id, error = %error.chain(), "A run's ending could not be stored; the reaper takes the run up again.");
        }
    }
}

/// What a client's failure before anything was sent says of the run: a refused refresh token
/// (which has already marked the connection as needing re-authentication, when it was the
/// newest one) names the connection.
pub(crate) fn client_failure(
    connection: &Connection,
    error: constant_contact::Error,
) -> RunFailure {
    match error {
        constant_contact::Error::ReauthenticationRequired { description } => {
            RunFailure::NeedsReauthentication {
                connection: connection.name.clone(),
                description,
            }
        }
        other => RunFailure::NotStarted(other.into()),
    }
}
