//! Carrying out one claimed run: the plan from the stored export, the export itself with its
//! progress written to the store every second, and the ending with its report. Whatever
//! happens, the run ends; it never stays Running.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use constant_contact::ConstantContact;
use constant_contact::budget::next_utc_midnight;
use segsync_domain::FieldMapping;
use segsync_domain::segment::RunClock;
use segsync_engine::Profiles;
use segsync_export::{ExportError, ExportPlan, Ledger, RunOutcome, RunReport, run_export_in_step};
use segsync_store::{Connection, LedgerOf, Run, RunStatus, StoreError};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use uuid::Uuid;

use crate::RunEngine;
use crate::checkpoints::StoreCheckpoints;
use crate::ledger::load_ledger;
use crate::progress::LiveProgress;
use crate::quota::SharedQuota;
use crate::resume::settle_earlier_imports;
use crate::schedule::system_schedule;
use crate::stored_segments::{catalogue, definition, open_profiles};

/// How often a running run's progress (and so its heartbeat) is written.
pub(crate) const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// How a run ends.
pub struct Ending {
    status: RunStatus,
    reason: Option<String>,
    report: Option<RunReport>,
    /// What becomes of the run.
    after: After,
}

/// Whether a run ends, or goes back to the queue to resume later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// It ends with its status.
    End,
    /// The server is stopping: it resumes at the next start (or on another node).
    Resume,
    /// Not enough quota today: it resumes once the quota resets.
    WaitUntil(DateTime<Utc>),
    /// The worker's claim lapsed and another worker has the run: this one writes nothing more.
    TakenOver,
}

impl Ending {
    /// Why the run could not go ahead.
    pub fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("the run could not start")
    }
}

impl Ending {
    fn failed(reason: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Failed,
            reason: Some(reason.into()),
            report: None,
            after: After::End,
        }
    }

    fn deferred(until: DateTime<Utc>, reason: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Queued,
            reason: Some(reason.into()),
            report: None,
            after: After::WaitUntil(until),
        }
    }

    fn taken_over() -> Self {
        Self {
            status: RunStatus::Running,
            reason: None,
            report: None,
            after: After::TakenOver,
        }
    }

    fn skipped(reason: impl Into<String>) -> Self {
        Self {
            status: RunStatus::Skipped,
            reason: Some(reason.into()),
            report: None,
            after: After::End,
        }
    }
}

/// Everything a run needs, gathered before anything is sent.
pub struct Prepared {
    pub connection: Connection,
    pub client: ConstantContact,
    pub profiles: Profiles,
    pub plan: ExportPlan,
    /// Where the export's ledger for its list is.
    pub ledger_of: LedgerOf,
}

/// Carries out `run` to its end. `stopping` is cancelled when the server shuts down: the run
/// then ends its batch in flight and stops.
pub(crate) async fn execute(engine: &RunEngine, run: Run, stopping: &CancellationToken) {
    info!(run = %run.id, export = %run.export_id, claim = run.claim, "A run starts.");
    let claim = run.held_claim();
    let ending = match engine.prepare(run.export_id).await {
        Ok(prepared) => Box::pin(perform(engine, &run, prepared, stopping)).await,
        Err(ending) => ending,
    };
    if let Some(report) = &ending.report {
        metrics::counter!("segsync_members_sent_total").increment(report.sent);
    }
    let stored = match ending.after {
        After::TakenOver => {
            warn!(run = %run.id, claim = run.claim, "The run was taken over by another worker after this one's claim lapsed; this one stopped and writes nothing more.");
            return;
        }
        After::Resume => {
            let stored = engine.store.requeue_run(&claim).await;
            if stored.is_ok() {
                info!(run = %run.id, "The server is stopping: the run goes back to the queue and resumes where it stopped.");
            }
            stored
        }
        After::WaitUntil(until) => {
            let reason = ending.reason.as_deref().unwrap_or_default();
            let stored = engine.store.defer_run(&claim, until, reason).await;
            if stored.is_ok() {
                info!(run = %run.id, %until, reason, "The run waits for the quota to reset.");
            }
            stored
        }
        After::End => {
            let report = ending
                .report
                .as_ref()
                .map(|report| serde_json::to_value(report).expect("a report serialises"));
            let stored = engine
                .store
                .finish_run(
                    &claim,
                    ending.status,
                    ending.reason.as_deref(),
                    report.as_ref(),
                )
                .await;
            if stored.is_ok() {
                metrics::counter!("segsync_runs_finished_total", "status" => ending.status.as_str())
                    .increment(1);
                info!(run = %run.id, status = ending.status.as_str(), reason = ending.reason.as_deref().unwrap_or(""), "A run ended.");
            }
            stored
        }
    };
    match stored {
        Ok(()) => {}
        Err(StoreError::ClaimLost { .. }) => {
            warn!(run = %run.id, "The run was taken over by another worker before this one could end it; its ending is left to that one.");
        }
        Err(error) => {
            error!(run = %run.id, %error, "A run's ending could not be stored; the reaper takes the run up again.");
        }
    }
}

impl RunEngine {
    /// The plan, client and profiles for a run of the export, or how the run ends before it starts.
    pub async fn prepare(&self, export_id: Uuid) -> Result<Prepared, Ending> {
        let state = self;
        let store_failed =
            |error: segsync_store::StoreError| Ending::failed(format!("the store: {error}"));
        let export = state.store.export(export_id).await.map_err(store_failed)?;
        let Some(connection_id) = export.connection_id else {
            return Err(Ending::skipped(
                "the export has no connection: it was detached",
            ));
        };
        let connection = state
            .store
            .connection(connection_id)
            .await
            .map_err(store_failed)?;
        tracing::Span::current().record("connection", tracing::field::display(connection.id));
        let client = state
            .clients
            .for_connection(&connection)
            .map_err(|error| Ending::failed(error.to_string()))?;
        let mut segments = Vec::new();
        for id in &export.segment_ids {
            let segment = state.store.segment(*id).await.map_err(store_failed)?;
            if !segment.active {
                return Err(Ending::skipped(format!(
                    "the segment {:?} is inactive; activate it to export it",
                    segment.name
                )));
            }
            let parsed = definition(&segment).map_err(|problems| {
                Ending::failed(format!(
                    "the segment {:?} is not valid: {}",
                    segment.name,
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })?;
            segments.push(parsed);
        }
        let mapping: BTreeMap<String, String> = serde_json::from_str(&export.mapping)
            .map_err(|error| Ending::failed(format!("the export's data matching: {error}")))?;
        let mapping = FieldMapping::from_names(&mapping)
            .map_err(|error| Ending::failed(format!("the export's data matching: {error}")))?;
        let time_zone = system_schedule(&state.store)
            .await
            .map_err(|error| Ending::failed(error.to_string()))?
            .time_zone;
        let catalogue = catalogue(&state.store).await.map_err(store_failed)?;
        let plan = ExportPlan::new(
            segments,
            mapping,
            export.list_id,
            RunClock::new(Utc::now(), time_zone),
        )
        .with_catalogue(catalogue)
        .with_member_limit(state.settings.member_limit)
        .with_mode(export.sync_mode.parse().unwrap_or_default());
        let profiles = open_profiles(state.settings.profiles.as_deref())
            .await
            .map_err(|error| Ending::failed(error.to_string()))?;
        Ok(Prepared {
            connection,
            client,
            profiles,
            plan,
            ledger_of: LedgerOf {
                export_id: export.id,
                list_id: export.list_id,
            },
        })
    }
}

async fn perform(
    state: &RunEngine,
    run: &Run,
    prepared: Prepared,
    stopping: &CancellationToken,
) -> Ending {
    let api = state.clients.api();
    let quota = SharedQuota::new(api.client_id.clone(), u64::from(api.daily_quota));
    match state.store.quota_day(&quota.api_key, quota.day).await {
        Ok(today) => {
            if let Some(until) = today.paused_until.filter(|until| *until > Utc::now()) {
                return Ending::deferred(
                    until,
                    format!(
                        "waiting for Constant Contact's daily quota of this API key to reset at {until}; it answered quota_exceeded"
                    ),
                );
            }
        }
        Err(error) => return Ending::failed(format!("the store: {error}")),
    }
    let requests_before = prepared.client.requests_sent();
    let (ledger, checkpoints) = match take_up(state, run, &prepared, quota).await {
        Ok(taken_up) => taken_up,
        Err(reason) => return Ending::failed(reason),
    };
    let plan = prepared.plan.clone().with_full_resync(run.full_resync);
    let progress = LiveProgress::default();
    let cancel = CancellationToken::new();
    let mut stopped_by_shutdown = false;
    let mut out_of_time = false;
    let time_budget = Duration::from_secs(state.settings.runs.max_run_seconds);
    let deadline = tokio::time::sleep(time_budget);
    tokio::pin!(deadline);
    let exporting = run_export_in_step(
        &prepared.profiles,
        &plan,
        &prepared.client,
        ledger,
        &checkpoints,
        &progress,
        &cancel,
    );
    tokio::pin!(exporting);
    // The progress is written beside the export, never instead of it: an export left unpolled
    // while it holds the store's write lock would make every other writer wait for it.
    let export_ended = CancellationToken::new();
    let supervised = async {
        let result = loop {
            tokio::select! {
                result = &mut exporting => break result,
                () = stopping.cancelled(), if !cancel.is_cancelled() => {
                    stopped_by_shutdown = true;
                    cancel.cancel();
                }
                () = &mut deadline, if !cancel.is_cancelled() => {
                    info!(run = %run.id, seconds = time_budget.as_secs(), "The run reached its time budget; it stops after its batch in flight.");
                    out_of_time = true;
                    cancel.cancel();
                }
                () = checkpoints.claim_lost.cancelled(), if !cancel.is_cancelled() => {
                    warn!(run = %run.id, "The run's claim lapsed; it stops before its next send.");
                    cancel.cancel();
                }
            }
        };
        export_ended.cancel();
        result
    };
    let (result, ()) = tokio::join!(
        supervised,
        report_progress(state, &checkpoints, &progress, &cancel, &export_ended)
    );
    // The requests were used whoever holds the run now.
    let used = prepared.client.requests_sent() - requests_before;
    if let Err(error) = checkpoints.quota.settle(&state.store, used).await {
        warn!(run = %run.id, %error, "The requests a run used could not be counted in the store.");
    }
    if checkpoints.claim_lost.is_cancelled() {
        return Ending::taken_over();
    }
    write_skipped(state, &checkpoints, &progress).await;
    match state
        .store
        .set_run_progress(&checkpoints.claim, &progress.snapshot())
        .await
    {
        Ok(_) => {}
        Err(StoreError::ClaimLost { .. }) => return Ending::taken_over(),
        Err(error) => warn!(run = %run.id, %error, "A run's last progress could not be stored."),
    }
    let quota = &checkpoints.quota;
    if prepared.client.budget().remaining_today() == 0
        && matches!(&result, Ok(report) if matches!(report.outcome, RunOutcome::Failed { .. }))
    {
        // Constant Contact answered quota_exceeded (or the day's count ran out): every run of
        // the key waits for the reset, in every process; this one resumes then.
        let until = next_utc_midnight(Utc::now());
        if let Err(error) = state
            .store
            .pause_api_key(&quota.api_key, quota.day, until)
            .await
        {
            warn!(run = %run.id, %error, "The quota's pause could not be stored.");
        }
        let sent = result.as_ref().map_or(0, |report| report.sent);
        return Ending::deferred(
            until,
            format!(
                "the daily request quota ran out after sending {sent} contacts; the run resumes when it resets at {until}"
            ),
        );
    }
    match result {
        Ok(report) => {
            let (status, reason) = match &report.outcome {
                RunOutcome::Succeeded => (RunStatus::Succeeded, None),
                RunOutcome::Cancelled if out_of_time => (
                    RunStatus::TimedOut,
                    Some(format!(
                        "the run reached its maximum duration of {} s and stopped after sending {} contacts; the next run sends the rest",
                        time_budget.as_secs(),
                        report.sent
                    )),
                ),
                RunOutcome::Cancelled if stopped_by_shutdown => {
                    return Ending {
                        status: RunStatus::Queued,
                        reason: None,
                        report: Some(report),
                        after: After::Resume,
                    };
                }
                RunOutcome::Cancelled => (
                    RunStatus::Cancelled,
                    Some(format!(
                        "cancelled on request after sending {} contacts",
                        report.sent
                    )),
                ),
                RunOutcome::Failed { reason } => (RunStatus::Failed, Some(reason.clone())),
            };
            Ending {
                status,
                reason,
                report: Some(report),
                after: After::End,
            }
        }
        Err(error @ ExportError::OverQuota { needed, .. }) => {
            if needed <= quota.requests_per_day {
                let until = next_utc_midnight(Utc::now());
                Ending::deferred(
                    until,
                    format!("{error}; deferred until the reset at {until}"),
                )
            } else {
                Ending::skipped(format!(
                    "{error}; it needs more than a whole day's {} requests",
                    quota.requests_per_day
                ))
            }
        }
        Err(ExportError::ConstantContact(error)) => {
            Ending::failed(client_failure(&prepared.connection, &error))
        }
        Err(error) => Ending::failed(error.to_string()),
    }
}

/// What the export sent before, and where this run's checkpoints go. A resumed run first settles
/// what its earlier attempt left unsettled and forgets the members it listed as left out (the
/// run lists them again).
async fn take_up(
    state: &RunEngine,
    run: &Run,
    prepared: &Prepared,
    quota: SharedQuota,
) -> Result<(Ledger, StoreCheckpoints), String> {
    let store_failed = |error: segsync_store::StoreError| format!("the store: {error}");
    let claim = run.held_claim();
    if run.resumed > 0 {
        state
            .store
            .clear_run_skips(&claim)
            .await
            .map_err(store_failed)?;
        let settled = settle_earlier_imports(
            &state.store,
            &prepared.client,
            &claim,
            prepared.ledger_of,
            &prepared.plan.poll_policy,
        )
        .await
        .map_err(|error| format!("resuming the run: {error}"))?;
        info!(run = %run.id, resumed = run.resumed, ?settled, "A run interrupted by its process's end is resumed.");
    }
    let ledger = load_ledger(&state.store, prepared.ledger_of, run.id)
        .await
        .map_err(store_failed)?;
    let first_seq = state
        .store
        .run_batches(run.id)
        .await
        .map_err(store_failed)?
        .last()
        .map_or(0, |batch| batch.seq);
    Ok((
        ledger,
        StoreCheckpoints::new(
            state.store.clone(),
            claim,
            prepared.ledger_of,
            first_seq,
            quota,
        ),
    ))
}

/// Stores the run's progress and the members it left out every `PROGRESS_INTERVAL` until the
/// export ends, finishing the write in hand; stops the run when the store says it was cancelled,
/// or that its claim lapsed.
async fn report_progress(
    state: &RunEngine,
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
        write_skipped(state, checkpoints, progress).await;
        match state
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
            Err(error) => warn!(%run, %error, "A run's progress could not be stored."),
        }
    }
}

/// Writes the members the run left out since the last time to the store. Members whose write
/// fails are kept for the next one, never dropped.
async fn write_skipped(state: &RunEngine, checkpoints: &StoreCheckpoints, progress: &LiveProgress) {
    let skipped = progress.take_skipped();
    if skipped.is_empty() {
        return;
    }
    match state
        .store
        .add_run_skips(&checkpoints.claim, &skipped)
        .await
    {
        Ok(()) => {}
        Err(StoreError::ClaimLost { .. }) => checkpoints.claim_lost.cancel(),
        Err(error) => {
            warn!(run = %checkpoints.claim.run_id, %error, members = skipped.len(), "Members a run left out could not be stored yet; they are written with the next progress.");
            progress.keep_skipped(skipped);
        }
    }
}

/// What a client's failure says of the connection. A refused refresh token has already marked
/// the connection as needing re-authentication — only when it was the newest one — through the
/// connection's token store.
pub(crate) fn client_failure(connection: &Connection, error: &constant_contact::Error) -> String {
    if let constant_contact::Error::ReauthenticationRequired { description } = error {
        return format!(
            "the connection {:?}: Constant Contact refused the refresh token: {description}",
            connection.name
        );
    }
    error.to_string()
}
