//! The run's progress and the members it left out, written to the store beside the export.

use segsync_domain::ChainExt;
use segsync_store::StoreError;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::PROGRESS_INTERVAL;
use super::RunContext;
use crate::checkpoints::StoreCheckpoints;
use crate::progress::LiveProgress;

/// Stores the run's progress and the members it left out every `PROGRESS_INTERVAL` until the
/// export ends, finishing the write in hand; stops the run when the store says it was cancelled,
/// or that its claim lapsed.
pub(super) async fn report_progress(
    context: &RunContext,
    checkpoints: &StoreCheckpoints,
    progress: &LiveProgress,
    cancel: &CancellationToken,
    export_ended: &CancellationToken,
) {
    let run = checkpoints.claim.run_id;
    let mut every_second = tokio::time::interval(PROGRESS_INTERVAL);
    loop {
        tokio::select! {
            _ = every_second.tick() => {}
            () = export_ended.cancelled() => return,
        }
        write_skipped(context, checkpoints, progress).await;
        match context
            .store
            .set_run_progress(&checkpoints.claim, &progress.snapshot())
            .await
        {
            Ok(true) if !cancel.is_cancelled() => {
                info!(%run, "Cancellation asked; the run stops after its batch in flight.");
                cancel.cancel();
            }
            Ok(_) => {}
            Err(StoreError::ClaimLost { .. }) => {
                checkpoints.claim_lost.cancel();
                return;
            }
            Err(error) => {
                warn!(%run, error = %error.chain(), "A run's progress could not be stored.")
            }
        }
    }
}

/// Writes the members the run left out since the last time to the store. Members whose write
/// fails are kept for the next one, never dropped.
pub(super) async fn write_skipped(
    context: &RunContext,
    checkpoints: &StoreCheckpoints,
    progress: &LiveProgress,
) {
    let skipped = progress.take_skipped();
    if skipped.is_empty() {
        return;
    }
    match context
        .store
        .add_run_skips(&checkpoints.claim, &skipped)
        .await
    {
        Ok(()) => {}
        Err(StoreError::ClaimLost { .. }) => checkpoints.claim_lost.cancel(),
        Err(error) => {
            warn!(run = %checkpoints.claim.run_id, error = %error.chain(), members = skipped.len(), "Members a run left out could not be stored yet; they are written with the next progress.");
            progress.keep_skipped(skipped);
        }
    }
}
