//! Reading the list back within a run: after a sync run that succeeded (when its export reads
//! back `after_run`), or as the whole of a run that only reads it back. The requests are
//! reserved from the API key's quota first, like any run's; the ledger is corrected from what
//! was read, under the run's claim, so that the next run adds back what someone removed.

use chrono::Utc;
use segsync_domain::ChainExt;
use segsync_export::{
    Checkpoints, ExportError, ListVerification, READ_BACK_REQUESTS, Reservation, RunReport,
    verify_list,
};
use segsync_store::{Run, StoreError};
use tracing::{info, warn};

use super::{Ending, Prepared, RunContext, client_failure};
use crate::checkpoints::StoreCheckpoints;
use crate::failure::RunFailure;
use crate::ledger::load_ledger;
use crate::quota::SharedQuota;

/// Why the list could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    #[error(
        "reading the list back needs up to {needed} requests and only {left} are left today for this API key"
    )]
    OverQuota { needed: u64, left: u64 },
    #[error("the store")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Reads the export's list back against its ledger as it stands now, and corrects the ledger.
pub(super) async fn read_back(
    context: &RunContext,
    run: &Run,
    prepared: &Prepared,
    checkpoints: &StoreCheckpoints,
) -> Result<ListVerification, ReadBackError> {
    match checkpoints
        .reserve_requests(READ_BACK_REQUESTS)
        .await
        .map_err(|error| ReadBackError::Export(error.into()))?
    {
        Reservation::Reserved => {}
        Reservation::Short { left } => {
            return Err(ReadBackError::OverQuota {
                needed: READ_BACK_REQUESTS,
                left,
            });
        }
    }
    let ledger = load_ledger(&context.store, prepared.ledger_of, run.id).await?;
    let (verification, correction) = verify_list(
        &prepared.profiles,
        &prepared.plan,
        &prepared.client,
        &ledger,
    )
    .await?;
    context
        .store
        .correct_ledger(
            &checkpoints.claim,
            prepared.ledger_of.export_id,
            prepared.ledger_of.list_id,
            &correction.forget,
            &correction.unsubscribed,
        )
        .await?;
    info!(
        run = %run.id,
        list_members = verification.list_members,
        missing = verification.missing,
        extra = verification.extra,
        requests = verification.requests,
        "The list was read back."
    );
    Ok(verification)
}

/// Reads the list back after a sync run that succeeded: its report carries what was found, or
/// why it could not be read; the run's own work stands either way.
pub(super) async fn after_run(
    context: &RunContext,
    run: &Run,
    prepared: &Prepared,
    checkpoints: &StoreCheckpoints,
    report: &mut RunReport,
) {
    match read_back(context, run, prepared, checkpoints).await {
        Ok(verification) => report.verification = Some(verification),
        Err(error) => {
            let reason = error.chain().to_string();
            warn!(run = %run.id, reason, "The list could not be read back after the run.");
            report.verification_failed = Some(reason);
        }
    }
}

/// A run that only reads the list back: it sends nothing, and its report holds the reading.
pub(super) async fn verification_run(
    context: &RunContext,
    run: &Run,
    prepared: &Prepared,
    quota: SharedQuota,
) -> Ending {
    let started_at = Utc::now();
    let claim = run.held_claim();
    let checkpoints =
        StoreCheckpoints::new(context.store.clone(), claim, prepared.ledger_of, 0, quota);
    let requests_before = prepared.client.requests_sent();
    let read = read_back(context, run, prepared, &checkpoints).await;
    let used = prepared.client.requests_sent() - requests_before;
    if let Err(error) = checkpoints.quota.settle(&context.store, used).await {
        warn!(run = %run.id, error = %error.chain(), "The requests a run used could not be counted in the store.");
    }
    match read {
        Ok(verification) => Ending::Succeeded(RunReport {
            mode: prepared.plan.mode,
            list_id: prepared.plan.list_id,
            started_at,
            finished_at: Utc::now(),
            requests_used: used,
            list_members_at_start: Some(verification.list_members),
            verification: Some(verification),
            ..RunReport::default()
        }),
        Err(ReadBackError::Store(StoreError::ClaimLost { .. })) => Ending::TakenOver,
        Err(ReadBackError::Export(ExportError::ConstantContact(error))) => {
            Ending::failed(client_failure(&prepared.connection, error))
        }
        Err(error) => Ending::failed(RunFailure::ReadBack(error)),
    }
}
