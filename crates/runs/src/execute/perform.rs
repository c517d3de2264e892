//! Perform: a prepared run taken up where it stands, the export supervised to its end, and its
//! ending decided from what the export returned and why it stopped.

use chrono::Utc;
use constant_contact::budget::next_utc_midnight;
use segsync_domain::ChainExt;
use segsync_domain::VerifySchedule;
use segsync_export::{
    ExportError, ExportPlan, Ledger, Progress, RunEnded, RunOutcome, run_export_in_step,
};
use segsync_store::{Run, RunPurpose, StoreError};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::progress_writer::{report_progress, write_skipped};
use super::{Ending, Prepared, RunContext, client_failure, opt_outs, read_back};
use crate::checkpoints::StoreCheckpoints;
use crate::failure::RunFailure;
use crate::ledger::load_ledger;
use crate::progress::{LiveProgress, Watched};
use crate::quota::SharedQuota;
use crate::resume::settle_earlier_imports;

/// Why the export stopped before its end, when something stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// It ran to its end (or was cancelled on request, which the store tells).
    None,
    Shutdown,
    OutOfTime,
}

pub(super) async fn perform(
    context: &RunContext,
    run: &Run,
    prepared: &Prepared,
    watcher: &dyn Progress,
    stopping: &CancellationToken,
) -> Ending {
    let quota = SharedQuota::new(context.api_key.clone(), context.requests_per_day);
    if let Err(failure) = quota_not_paused(context, &quota).await {
        return Ending::failed(failure);
    }
    if run.purpose == RunPurpose::Verify {
        return read_back::verification_run(context, run, prepared, quota).await;
    }
    let requests_before = prepared.client.requests_sent();
    // Before anything is sent: who opted out since the connection last asked.
    if let Err(failure) = opt_outs::learn(context, prepared, &quota).await {
        let used = prepared.client.requests_sent() - requests_before;
        if let Err(error) = quota.settle(&context.store, used).await {
            warn!(run = %run.id, error = %error.chain(), "The requests a run used could not be counted in the store.");
        }
        if let RunFailure::QuotaExceeded { resets_at, .. } = &failure
            && let Err(error) = context
                .store
                .pause_api_key(&quota.api_key, quota.day, *resets_at)
                .await
        {
            warn!(run = %run.id, error = %error.chain(), "The quota's pause could not be stored.");
        }
        return Ending::failed(failure);
    }
    opt_outs::write_back(context).await;
    let (ledger, checkpoints) = match take_up(context, run, prepared, quota).await {
        Ok(taken_up) => taken_up,
        Err(TakeUpError::ClaimLost) => return Ending::TakenOver,
        Err(TakeUpError::Failed(failure)) => return Ending::failed(failure),
    };
    let plan = match plan_of_run(context, run, prepared).await {
        Ok(plan) => plan,
        Err(error) => return Ending::failed(error),
    };
    let progress = LiveProgress::default();
    let (mut result, stop) = supervise(
        context,
        prepared,
        &plan,
        ledger,
        &checkpoints,
        &Watched {
            live: &progress,
            watcher,
        },
        stopping,
    )
    .await;
    if prepared.verify == VerifySchedule::AfterRun
        && stop == Stop::None
        && !checkpoints.claim_lost.is_cancelled()
        && let Some(Ok(RunEnded {
            report,
            failure: None,
        })) = &mut result
        && report.outcome == RunOutcome::Succeeded
    {
        read_back::after_run(context, run, prepared, &checkpoints, report).await;
    }
    // The requests were used whoever holds the run now.
    let used = prepared.client.requests_sent() - requests_before;
    if let Err(error) = checkpoints.quota.settle(&context.store, used).await {
        warn!(run = %run.id, error = %error.chain(), "The requests a run used could not be counted in the store.");
    }
    if checkpoints.claim_lost.is_cancelled() {
        return Ending::TakenOver;
    }
    write_skipped(context, &checkpoints, &progress).await;
    match context
        .store
        .set_run_progress(&checkpoints.claim, &progress.snapshot())
        .await
    {
        Ok(_) => {}
        Err(StoreError::ClaimLost { .. }) => return Ending::TakenOver,
        Err(error) => {
            warn!(run = %run.id, error = %error.chain(), "A run's last progress could not be stored.")
        }
    }
    let ending = match result {
        Some(result) => ending_of(context, prepared, &checkpoints.quota, result, stop),
        None => Ending::failed(RunFailure::Hung {
            seconds: (context.time_budget + context.stop_grace).as_secs(),
            sent: progress.snapshot().contacts_sent,
        }),
    };
    let ending = one_load(prepared, ending).await;
    if let Ending::NotSucceeded {
        failure: RunFailure::QuotaExceeded { resets_at, .. },
        ..
    } = &ending
    {
        // Every run of the key waits for the reset, in every process; this one resumes then.
        let quota = &checkpoints.quota;
        if let Err(error) = context
            .store
            .pause_api_key(&quota.api_key, quota.day, *resets_at)
            .await
        {
            warn!(run = %run.id, error = %error.chain(), "The quota's pause could not be stored.");
        }
    }
    ending
}

/// Records the versions read in the report, and fails a run that succeeded over sources that
/// changed while it read them.
async fn one_load(prepared: &Prepared, mut ending: Ending) -> Ending {
    match &mut ending {
        Ending::Succeeded(report)
        | Ending::Resume(report)
        | Ending::NotSucceeded {
            report: Some(report),
            ..
        } => prepared.versions.record_in(&mut report.source),
        _ => {}
    }
    match ending {
        Ending::Succeeded(report) => match prepared.versions.changed_since().await {
            Ok(()) => Ending::Succeeded(report),
            Err(failure) => Ending::NotSucceeded {
                failure,
                report: Some(report),
            },
        },
        other => other,
    }
}

/// Fails when another run found the API key's quota spent and its reset is still ahead.
async fn quota_not_paused(context: &RunContext, quota: &SharedQuota) -> Result<(), RunFailure> {
    let today = context.store.quota_day(&quota.api_key, quota.day).await?;
    match today.paused_until.filter(|until| *until > Utc::now()) {
        Some(until) => Err(RunFailure::QuotaPaused { until }),
        None => Ok(()),
    }
}

enum TakeUpError {
    ClaimLost,
    Failed(RunFailure),
}

impl<E: Into<RunFailure>> From<E> for TakeUpError {
    fn from(error: E) -> Self {
        match error.into() {
            RunFailure::StoreUnavailable(StoreError::ClaimLost { .. }) => Self::ClaimLost,
            failure => Self::Failed(failure),
        }
    }
}

/// What the export sent before, and where this run's checkpoints go. A resumed run first settles
/// what its earlier attempt left unsettled and forgets the members it listed as left out (the
/// run lists them again).
async fn take_up(
    context: &RunContext,
    run: &Run,
    prepared: &Prepared,
    quota: SharedQuota,
) -> Result<(Ledger, StoreCheckpoints), TakeUpError> {
    let claim = run.held_claim();
    if run.resumed > 0 {
        context.store.clear_run_skips(&claim).await?;
        let settled = settle_earlier_imports(
            &context.store,
            &prepared.client,
            &claim,
            prepared.ledger_of,
            &prepared.plan.poll_policy,
        )
        .await
        .map_err(|error| match error {
            crate::resume::ResumeError::Store(StoreError::ClaimLost { .. }) => {
                TakeUpError::ClaimLost
            }
            other => TakeUpError::Failed(RunFailure::Resuming(other)),
        })?;
        info!(run = %run.id, resumed = run.resumed, ?settled, "A run interrupted by its process's end is resumed.");
    }
    let ledger = load_ledger(&context.store, prepared.ledger_of, run.id).await?;
    let first_seq = context
        .store
        .run_batches(run.id)
        .await?
        .last()
        .map_or(0, |batch| batch.seq);
    Ok((
        ledger,
        StoreCheckpoints::new(
            context.store.clone(),
            claim,
            prepared.ledger_of,
            first_seq,
            quota,
        ),
    ))
}

/// The prepared plan as this run carries it out: a full resync when asked, and the guards
/// judging it against the export's last successful run, with the removals a person confirmed.
async fn plan_of_run(
    context: &RunContext,
    run: &Run,
    prepared: &Prepared,
) -> Result<ExportPlan, StoreError> {
    let members_before = context
        .store
        .members_at_last_success(prepared.ledger_of.export_id)
        .await?;
    Ok(prepared
        .plan
        .clone()
        .with_full_resync(run.full_resync)
        .with_members_before(members_before)
        .with_confirmed_removals(run.confirmed_removals))
}

/// Runs the export beside the writer of its progress, and stops it after its batch in flight
/// when the server stops, its time budget runs out, or its claim lapses; none when it did not
/// stop within the grace after its budget (a call that never answered) and was abandoned.
async fn supervise(
    context: &RunContext,
    prepared: &Prepared,
    plan: &ExportPlan,
    ledger: Ledger,
    checkpoints: &StoreCheckpoints,
    progress: &Watched<'_>,
    stopping: &CancellationToken,
) -> (Option<Result<RunEnded, ExportError>>, Stop) {
    let cancel = CancellationToken::new();
    let mut stop = Stop::None;
    let run_id = checkpoints.claim.run_id;
    let time_budget = context.time_budget;
    let deadline = tokio::time::sleep(time_budget);
    tokio::pin!(deadline);
    // Past the budget, the batch in flight gets the grace to end; then the run is abandoned.
    let abandon = tokio::time::sleep(time_budget + context.stop_grace);
    tokio::pin!(abandon);
    let exporting = run_export_in_step(
        &prepared.profiles,
        plan,
        &prepared.client,
        ledger,
        checkpoints,
        progress,
        &cancel,
    );
    tokio::pin!(exporting);
    // The progress is written beside the export, never instead of it: an export left unpolled
    // while it holds the store's write lock would make every other writer wait for it.
    let export_ended = CancellationToken::new();
    let supervised = async {
        let result = loop {
            tokio::select! {
                result = &mut exporting => break Some(result),
                () = &mut abandon => {
                    warn!(run = %run_id, seconds = (time_budget + context.stop_grace).as_secs(), "The run did not stop after its time budget and grace; it is abandoned where it stood.");
                    break None;
                }
                () = stopping.cancelled(), if !cancel.is_cancelled() => {
                    stop = Stop::Shutdown;
                    cancel.cancel();
                }
                () = &mut deadline, if !cancel.is_cancelled() => {
                    info!(run = %run_id, seconds = time_budget.as_secs(), "The run reached its time budget; it stops after its batch in flight.");
                    stop = Stop::OutOfTime;
                    cancel.cancel();
                }
                () = checkpoints.claim_lost.cancelled(), if !cancel.is_cancelled() => {
                    warn!(run = %run_id, "The run's claim lapsed; it stops before its next send.");
                    cancel.cancel();
                }
            }
        };
        cancel.cancel();
        export_ended.cancel();
        result
    };
    let (result, ()) = tokio::join!(
        supervised,
        report_progress(context, checkpoints, progress.live, &cancel, &export_ended)
    );
    (result, stop)
}

/// How the run ends, from what the export returned and what stopped it.
fn ending_of(
    context: &RunContext,
    prepared: &Prepared,
    quota: &SharedQuota,
    result: Result<RunEnded, ExportError>,
    stop: Stop,
) -> Ending {
    let RunEnded { report, failure } = match result {
        Ok(ended) => ended,
        Err(error @ ExportError::OverQuota { needed, .. }) => {
            return Ending::failed(if needed <= quota.requests_per_day {
                RunFailure::OverQuotaToday {
                    until: next_utc_midnight(Utc::now()),
                    source: error,
                }
            } else {
                RunFailure::OverQuotaAnyDay {
                    requests_per_day: quota.requests_per_day,
                    source: error,
                }
            });
        }
        Err(ExportError::ConstantContact(error)) => {
            return Ending::failed(client_failure(&prepared.connection, error));
        }
        Err(ExportError::NeedsConfirmation(stop)) => {
            return Ending::failed(RunFailure::NeedsConfirmation(stop));
        }
        Err(error) => return Ending::failed(RunFailure::NotStarted(error)),
    };
    let sent = report.sent;
    let failure = match (&report.outcome, failure) {
        (_, Some(reason)) => match reason.quota_resets_at() {
            // Constant Contact answered quota_exceeded, or the day's count ran out.
            Some(resets_at) => RunFailure::QuotaExceeded {
                resets_at,
                sent,
                source: reason,
            },
            None => RunFailure::Export(reason),
        },
        (RunOutcome::Succeeded, None) => return Ending::Succeeded(report),
        (RunOutcome::Cancelled | RunOutcome::Failed { .. }, None) => match stop {
            Stop::Shutdown => return Ending::Resume(report),
            Stop::OutOfTime => RunFailure::TimedOut {
                seconds: context.time_budget.as_secs(),
                sent,
            },
            Stop::None => RunFailure::Cancelled { sent },
        },
    };
    Ending::NotSucceeded {
        failure,
        report: Some(report),
    }
}
