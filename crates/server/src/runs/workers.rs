//! The run workers of one process, the reaper that takes up runs whose process died, the
//! scheduler, and the purge of expired sessions, started together and stopped together.

use std::time::Duration;

use chrono::Utc;
use segsync_store::{Backend, Run, RunClaim, RunStatus, StoreError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, warn};

use super::execute::execute;
use crate::scheduler::keep_time;
use crate::state::AppState;

/// How long an idle worker waits before looking for queued runs again (it is woken sooner when
/// this process queues one; another process's runs are found this way).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// How long a running run's worker may stay silent before its run is taken over.
fn silent_after(state: &AppState) -> Duration {
    Duration::from_secs(state.config.runs.silent_run_seconds)
}

/// How often the reaper looks for silent runs: four times per silence, at most every 15 s.
fn reap_every(state: &AppState) -> Duration {
    (silent_after(state) / 4).min(Duration::from_secs(15))
}

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
        Backend::Postgres => Utc::now() - silent_after(state),
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
        tasks.spawn(purge_expired(state.clone(), stopping.clone()));
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
            Ok(Some(run)) => carry_out(&state, run, &stopping).await,
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

/// Carries out `run` in a task of its own: a panic in it ends that run Failed with the reason,
/// and the worker goes on with the next.
async fn carry_out(state: &AppState, run: Run, stopping: &CancellationToken) {
    let claim = run.held_claim();
    // Every event of the run, whatever it runs through, carries its ids.
    let span = tracing::info_span!(
        "run",
        run = %run.id,
        export = %run.export_id,
        connection = tracing::field::Empty,
        claim = run.claim,
    );
    let carrying_out = {
        let state = state.clone();
        let stopping = stopping.clone();
        async move { execute(&state, run, &stopping).await }.instrument(span.clone())
    };
    isolated(state, claim, carrying_out).instrument(span).await;
}

/// Runs `carrying_out` (one run's work) in a task of its own; if it panics, or its task is
/// stopped before it ends, the run is ended Failed with the reason, under its claim.
async fn isolated(
    state: &AppState,
    claim: RunClaim,
    carrying_out: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let mut task = AbortOnDrop(tokio::spawn(carrying_out));
    let Err(error) = (&mut task.0).await else {
        return;
    };
    let reason = if error.is_panic() {
        format!(
            "the run stopped on an internal error: {}",
            panic_message(error.into_panic().as_ref())
        )
    } else {
        "the run's task was stopped before it ended".to_owned()
    };
    error!(run = %claim.run_id, %reason, "A run's task ended abnormally; the worker goes on.");
    match state
        .store
        .finish_run(&claim, RunStatus::Failed, Some(&reason), None)
        .await
    {
        Ok(()) | Err(StoreError::ClaimLost { .. }) => {}
        Err(error) => {
            error!(run = %claim.run_id, %error, "A failed run's ending could not be stored; the reaper takes it up again.");
        }
    }
}

/// A run's task, aborted when the worker that waits for it is dropped (a stop past the grace
/// period), as the run would have been had it run inside the worker.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The text a panic carried, when it carried one.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// How often expired sessions and API tokens are removed from the store.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Removes expired sessions and API tokens, now and every `PURGE_EVERY`.
async fn purge_expired(state: AppState, stopping: CancellationToken) {
    loop {
        match state.store.purge_expired(Utc::now()).await {
            Ok(0) => {}
            Ok(purged) => info!(purged, "Expired sessions and API tokens were removed."),
            Err(error) => warn!(%error, "Expired sessions and API tokens could not be removed."),
        }
        tokio::select! {
            () = tokio::time::sleep(PURGE_EVERY) => {}
            () = stopping.cancelled() => return,
        }
    }
}

/// Takes up runs whose worker fell silent, whichever process it was in.
async fn reap(state: AppState, stopping: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(reap_every(&state)) => {}
            () = stopping.cancelled() => return,
        }
        let silent_since = Utc::now() - silent_after(&state);
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

#[cfg(test)]
mod tests {
    use segsync_store::{
        ExportDraft, NewConnection, NewUser, Role, SegmentDraft, Trigger, UsableBy,
    };
    use uuid::Uuid;

    use super::*;
    use crate::config::ServerConfig;

    /// A server's state on a fresh SQLite file, with one export whose run is claimed.
    async fn a_claimed_run(folder: &std::path::Path) -> (AppState, Run) {
        use base64::Engine;
        let config = ServerConfig {
            database_url: format!("sqlite://{}", folder.join("segsync.db").display()),
            encryption_key: Some(
                base64::engine::general_purpose::STANDARD
                    .encode([7u8; 32])
                    .into(),
            ),
            ..ServerConfig::default()
        };
        let state = AppState::open(config).await.unwrap();
        let store = &state.store;
        let by = store
            .create_user(&NewUser {
                username: "ada".into(),
                display_name: "Ada".into(),
                role: Role::Admin,
                password_hash: "unused".into(),
            })
            .await
            .unwrap()
            .id;
        let segment = store
            .create_segment(
                &SegmentDraft {
                    name: "everyone".into(),
                    description: None,
                    rule: r#"{"attribute":"email","op":"is_not_null"}"#.into(),
                },
                by,
            )
            .await
            .unwrap();
        let connection = store
            .create_connection(&NewConnection {
                name: "CC".into(),
                usable_by: UsableBy::Admins,
                created_by: by,
            })
            .await
            .unwrap();
        let export = store
            .create_export(
                &ExportDraft {
                    name: "export".into(),
                    connection_id: connection.id,
                    list_id: Uuid::new_v4(),
                    mapping: "{}".into(),
                    schedule_override: None,
                    sync_mode: "add_only".into(),
                    segment_ids: vec![segment.id],
                },
                by,
            )
            .await
            .unwrap();
        store
            .queue_run(export.id, Trigger::Manual, None, None)
            .await
            .unwrap();
        let run = store.claim_next_run("node").await.unwrap().unwrap();
        (state, run)
    }

    #[tokio::test]
    async fn a_run_that_panics_ends_failed_with_the_reason_and_the_worker_goes_on() {
        let folder = tempfile::tempdir().unwrap();
        let (state, run) = a_claimed_run(folder.path()).await;
        isolated(&state, run.held_claim(), async {
            panic!("an invariant broke");
        })
        .await;
        let ended = state.store.run(run.id).await.unwrap();
        assert_eq!(ended.status, RunStatus::Failed);
        assert_eq!(
            ended.reason.as_deref(),
            Some("the run stopped on an internal error: an invariant broke")
        );
        // The worker went on: the next run of the export can be queued and claimed.
        state
            .store
            .queue_run(run.export_id, Trigger::Manual, None, None)
            .await
            .unwrap();
        assert!(state.store.claim_next_run("node").await.unwrap().is_some());
    }
}
