//! The run workers of one process, the reaper that takes up runs whose process died, and the
//! scheduler, started together and stopped together.

use std::time::Duration;

use chrono::Utc;
use segsync_store::{Backend, StoreError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::execute::execute;
use crate::scheduler::keep_time;
use crate::state::AppState;

/// How long an idle worker waits before looking for queued runs again (it is woken sooner when
/// this process queues one; another process's runs are found this way).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// A running run whose progress has not been written for this long belongs to a dead process.
const SILENT_AFTER: Duration = Duration::from_secs(60);

/// How often the reaper looks for such runs.
const REAP_EVERY: Duration = Duration::from_secs(15);

/// A run taken up this many times after its process died, and interrupted again, is closed:
/// something about it stops every process that runs it.
const MAX_RESUMES: u32 = 3;

const INTERRUPTED_TOO_OFTEN: &str =
    "the run was interrupted by its process's end four times; it was not taken up again";

/// Takes up the runs a dead process left Running, before this one starts working: they go back
/// to the queue and resume where they stopped. On the embedded SQLite database this process is
/// the only one, so every Running run is taken up; on PostgreSQL other nodes may be working, so
/// only runs whose worker fell silent are.
pub(crate) async fn resume_interrupted_runs_at_start(state: &AppState) -> Result<(), StoreError> {
    let silent_since = match state.store.backend() {
        Backend::Sqlite => Utc::now(),
        Backend::Postgres => Utc::now() - SILENT_AFTER,
    };
    report_taken_up(
        state
            .store
            .requeue_interrupted_runs(INTERRUPTED_TOO_OFTEN, silent_since, MAX_RESUMES)
            .await?,
    );
    Ok(())
}

fn report_taken_up((requeued, closed): (u64, u64)) {
    if requeued > 0 {
        warn!(
            runs = requeued,
            "Runs whose process stopped are queued again; they resume where they stopped."
        );
    }
    if closed > 0 {
        warn!(runs = closed, "{INTERRUPTED_TOO_OFTEN}");
    }
}

/// The background work of one process.
pub(crate) struct Workers {
    tasks: JoinSet<()>,
    stopping: CancellationToken,
}

impl Workers {
    pub(crate) fn start(state: &AppState) -> Self {
        let stopping = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for _ in 0..state.config.runs.workers {
            tasks.spawn(work(state.clone(), stopping.clone()));
        }
        tasks.spawn(reap(state.clone(), stopping.clone()));
        if state.config.runs.scheduler {
            tasks.spawn(keep_time(state.clone(), stopping.clone()));
        }
        tasks.spawn(crate::alerts::keep_sending(state.clone(), stopping.clone()));
        Self { tasks, stopping }
    }

    /// Stops claiming runs, asks running ones to end their batch in flight, and waits for them
    /// up to `grace`; runs still going then are left for the next start to close.
    pub(crate) async fn stop(mut self, grace: Duration) {
        self.stopping.cancel();
        let all_ended = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all_ended).await.is_err() {
            warn!(
                grace_seconds = grace.as_secs(),
                "Runs did not end within the grace period; they will be closed at the next start."
            );
        } else {
            info!("Run workers stopped.");
        }
    }
}

/// One worker: claims the oldest queued run, carries it out, and looks again.
async fn work(state: AppState, stopping: CancellationToken) {
    loop {
        if stopping.is_cancelled() {
            return;
        }
        match state.store.claim_next_run(&state.node_id).await {
            // Boxed: a run's future is large, and the worker's loop should not carry it.
            Ok(Some(run)) => Box::pin(execute(&state, run, &stopping)).await,
            Ok(None) => {
                tokio::select! {
                    () = state.run_queued.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    () = stopping.cancelled() => return,
                }
            }
            Err(error) => {
                warn!(%error, "No run could be claimed; trying again shortly.");
                tokio::select! {
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    () = stopping.cancelled() => return,
                }
            }
        }
    }
}

/// Takes up runs whose worker fell silent, whichever process it was in.
async fn reap(state: AppState, stopping: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(REAP_EVERY) => {}
            () = stopping.cancelled() => return,
        }
        let silent_since = Utc::now() - SILENT_AFTER;
        match state
            .store
            .requeue_interrupted_runs(INTERRUPTED_TOO_OFTEN, silent_since, MAX_RESUMES)
            .await
        {
            Ok(taken_up) => {
                report_taken_up(taken_up);
                state.run_queued.notify_waiters();
            }
            Err(error) => warn!(%error, "Silent runs could not be looked for."),
        }
    }
}
