//! The run workers of one process, the reaper that takes up runs whose process died, and the
//! scheduler, started together and stopped together.

use segsync_domain::ChainExt;
use std::time::Duration;

use chrono::Utc;
use segsync_store::{Backend, Run, RunClaim, RunStatus, Store, StoreError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, warn};

use super::execute::execute;
use crate::RunEngine;
use crate::schedule::keep_time;

/// How long an idle worker waits before looking for queued runs again (it is woken sooner when
/// this process queues one; another process's runs are found this way).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// How long a running run's worker may stay silent before its run is taken over.
fn silent_after(engine: &RunEngine) -> Duration {
    Duration::from_secs(engine.settings.runs.silent_run_seconds)
}

/// How often the reaper looks for silent runs: four times per silence, at most every 15 s.
fn reap_every(engine: &RunEngine) -> Duration {
    (silent_after(engine) / 4).min(Duration::from_secs(15))
}

/// A run taken up this many times after its process died, and interrupted again, is closed:
/// something about it stops every process that runs it.
pub const MAX_RESUMES: u32 = 3;

pub const INTERRUPTED_TOO_OFTEN: &str =
    "the run was interrupted by its process's end four times; it was not taken up again";

/// Takes up the runs a dead process left Running, before this one starts working: they go back
/// to the queue and resume where they stopped. On the embedded SQLite database this process is
/// the only one, so every Running run is taken up; on PostgreSQL other nodes may be working, so
/// only runs whose worker fell silent are.
impl RunEngine {
    pub async fn resume_interrupted_runs_at_start(&self) -> Result<(), StoreError> {
        let silent_since = match self.store.backend() {
            Backend::Sqlite => Utc::now(),
            Backend::Postgres => Utc::now() - silent_after(self),
        };
        report_taken_up(
            self.store
                .requeue_interrupted_runs(INTERRUPTED_TOO_OFTEN, silent_since, MAX_RESUMES)
                .await?,
        );
        Ok(())
    }
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

/// The run work of one process: its workers, its reaper and (when configured) its scheduler.
pub struct Workers {
    tasks: JoinSet<()>,
    stopping: CancellationToken,
}

impl Workers {
    pub fn start(engine: &RunEngine) -> Self {
        let stopping = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for _ in 0..engine.settings.runs.workers {
            tasks.spawn(work(engine.clone(), stopping.clone()));
        }
        tasks.spawn(reap(engine.clone(), stopping.clone()));
        if engine.settings.runs.scheduler {
            tasks.spawn(keep_time(engine.clone(), stopping.clone()));
            if engine.settings.watch.watch_seconds > 0 {
                tasks.spawn(crate::follow::keep_watching(
                    engine.clone(),
                    stopping.clone(),
                ));
            }
        }
        Self { tasks, stopping }
    }

    /// Stops claiming runs, asks running ones to end their batch in flight, and waits for them
    /// up to `grace`; runs still going then are left for the next start to close.
    pub async fn stop(mut self, grace: Duration) {
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
async fn work(engine: RunEngine, stopping: CancellationToken) {
    loop {
        if stopping.is_cancelled() {
            return;
        }
        match engine.store.claim_next_run(engine.node_id()).await {
            Ok(Some(run)) => carry_out(&engine, run, &stopping).await,
            Ok(None) => {
                tokio::select! {
                    () = engine.run_queued.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    () = stopping.cancelled() => return,
                }
            }
            Err(error) => {
                warn!(error = %error.chain(), "No run could be claimed; trying again shortly.");
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
async fn carry_out(engine: &RunEngine, run: Run, stopping: &CancellationToken) {
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
        let engine = engine.clone();
        let stopping = stopping.clone();
        async move { execute(&engine, run, &stopping).await }.instrument(span.clone())
    };
    isolated(&engine.store, claim, carrying_out)
        .instrument(span)
        .await;
}

/// Runs `carrying_out` (one run's work) in a task of its own; if it panics, or its task is
/// stopped before it ends, the run is ended Failed with the reason, under its claim.
async fn isolated(
    store: &Store,
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
    match store
        .finish_run(&claim, RunStatus::Failed, Some(&reason), None)
        .await
    {
        Ok(()) | Err(StoreError::ClaimLost { .. }) => {}
        Err(error) => {
            error!(run = %claim.run_id, error = %error.chain(), "A failed run's ending could not be stored; the reaper takes it up again.");
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

/// Takes up runs whose worker fell silent, whichever process it was in.
async fn reap(engine: RunEngine, stopping: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(reap_every(&engine)) => {}
            () = stopping.cancelled() => return,
        }
        let silent_since = Utc::now() - silent_after(&engine);
        match engine
            .store
            .requeue_interrupted_runs(INTERRUPTED_TOO_OFTEN, silent_since, MAX_RESUMES)
            .await
        {
            Ok(taken_up) => {
                report_taken_up(taken_up);
                engine.run_queued.notify_waiters();
            }
            Err(error) => warn!(error = %error.chain(), "Silent runs could not be looked for."),
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

    /// A fresh SQLite store with one export whose run is claimed.
    async fn a_claimed_run(folder: &std::path::Path) -> (Store, Run) {
        let store = Store::open(&format!("sqlite://{}", folder.join("segsync.db").display()))
            .await
            .unwrap();
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
                    rule: serde_json::from_value(
                        serde_json::json!({"attribute": "email", "op": "is_not_null"}),
                    )
                    .unwrap(),
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
                    mapping: Default::default(),
                    schedule_override: None,
                    sync_mode: segsync_domain::SyncMode::AddOnly,
                    guards: Default::default(),
                    verify: Default::default(),
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
        (store, run)
    }

    #[tokio::test]
    async fn a_run_that_panics_ends_failed_with_the_reason_and_the_worker_goes_on() {
        let folder = tempfile::tempdir().unwrap();
        let (store, run) = a_claimed_run(folder.path()).await;
        isolated(&store, run.held_claim(), async {
            panic!("an invariant broke");
        })
        .await;
        let ended = store.run(run.id).await.unwrap();
        assert_eq!(ended.status, RunStatus::Failed);
        assert_eq!(
            ended.reason.as_deref(),
            Some("the run stopped on an internal error: an invariant broke")
        );
        // The worker went on: the next run of the export can be queued and claimed.
        store
            .queue_run(run.export_id, Trigger::Manual, None, None)
            .await
            .unwrap();
        assert!(store.claim_next_run("node").await.unwrap().is_some());
    }
}
