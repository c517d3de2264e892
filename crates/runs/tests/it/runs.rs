//! Runs carried out by the engine's workers, from the queue to their ending in the store.

use std::time::Duration;

use cc_sandbox::Fault;
use chrono::Utc;
use segsync_runs::Workers;
use segsync_store::{BatchState, RunStatus, StoreError};

use crate::helpers::{eventually, spawn_engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_run_is_carried_out_and_every_member_reaches_the_list() {
    let app = spawn_engine(120, |_, _| {}).await;
    let workers = Workers::start(&app.engine);
    let run = app.queue_run().await;
    let ended = app.run_once(run.id, |run| run.finished_at.is_some()).await;
    workers.stop(Duration::from_secs(5)).await;

    assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);
    let report = ended.report.expect("a finished run has its report");
    assert_eq!(report.profiles_read, 120);
    assert_eq!(report.sent, 120);
    assert!(report.totals_add_up(), "{report:#?}");
    assert_eq!(app.list_members().len(), 120);
    assert_eq!(app.imports_received(), 1);
}

/// The engine stops while Constant Contact has accepted an import but not yet answered, so the
/// run never recorded it as sent and its worker is gone. Without Constant Contact's word for
/// that very import, the next engine sends its members again and records its own import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_between_an_accepted_import_and_its_record_sends_it_again() {
    let app = spawn_engine(50, |_, _| {}).await;
    app.sandbox
        .state()
        .add_fault(Fault::answer_late("contacts_json_import", 1, 20_000));
    let workers = Workers::start(&app.engine);
    let run = app.queue_run().await;
    eventually(async || app.list_members().len() == 50).await;
    assert_eq!(
        app.list_members().len(),
        50,
        "Constant Contact applied the import"
    );
    // No grace: the worker is gone before the answer comes, and the run stays Running.
    workers.stop(Duration::from_millis(100)).await;
    let left = app.store.run(run.id).await.unwrap();
    assert_eq!(left.status, RunStatus::Running);

    // The next start takes up what the stopped one left Running.
    let ended = app.resume_to_end(run.id).await;

    assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);
    assert_eq!(ended.resumed, 1, "the same run went on");
    assert_eq!(ended.report.as_ref().unwrap().sent, 50, "sent again");
    assert_eq!(app.list_members().len(), 50);
    let batches = app.store.run_batches(run.id).await.unwrap();
    assert_eq!(batches.len(), 1, "the unconfirmed import was dropped");
    assert_eq!(batches[0].state, BatchState::Completed);
}

/// The engine stops before its import reaches Constant Contact. Meanwhile the account gets a
/// removal and someone else's import, each of as many contacts, neither recorded by any run.
/// The resumed run takes neither for its own: it sends its members and records its own import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_run_never_adopts_a_removal_or_a_foreign_import_of_its_size() {
    let app = spawn_engine(50, |_, _| {}).await;
    app.sandbox
        .state()
        .add_fault(Fault::delay("contacts_json_import", 1, 5_000));
    let workers = Workers::start(&app.engine);
    let run = app.queue_run().await;
    eventually(async || !app.store.run_batches(run.id).await.unwrap().is_empty()).await;
    workers.stop(Duration::from_millis(100)).await;
    let planned = app.store.run_batches(run.id).await.unwrap();
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].state, BatchState::Planned);

    let foreign_import = app.someone_elses_import(50).await;
    let removal = app.someone_elses_removal(50).await;

    let ended = app.resume_to_end(run.id).await;

    assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);
    assert_eq!(ended.report.as_ref().unwrap().sent, 50);
    let batches = app.store.run_batches(run.id).await.unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].state, BatchState::Completed);
    let adopted = batches[0].activity_id.expect("the run's own import");
    assert_ne!(
        adopted, foreign_import,
        "someone else's import is not the run's"
    );
    assert_ne!(adopted, removal, "a removal is not the run's import");
    assert_eq!(app.list_members().len(), 50);
}

/// A process that claimed a run and died: the reaper finds the run silent and queues it again,
/// a worker of this process finishes it, and the dead process's claim can write nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_a_dead_process_left_running_is_taken_over_and_its_old_claim_is_fenced() {
    let app = spawn_engine(60, |runs, _| runs.silent_run_seconds = 1).await;
    let queued = app.queue_run().await;
    let dead = app
        .store
        .claim_next_run("a-process-that-died")
        .await
        .unwrap()
        .expect("the queued run is claimed");
    assert_eq!(dead.id, queued.id);

    let workers = Workers::start(&app.engine);
    let ended = app
        .run_once(queued.id, |run| run.finished_at.is_some())
        .await;
    workers.stop(Duration::from_secs(5)).await;

    assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);
    assert_eq!(
        ended.resumed, 1,
        "taken up once after its process fell silent"
    );
    assert_eq!(ended.report.as_ref().unwrap().sent, 60);
    assert_eq!(app.list_members().len(), 60);
    assert_eq!(app.imports_received(), 1, "nothing was sent twice");
    let late_write = app
        .store
        .finish_run(&dead.held_claim(), RunStatus::Failed, Some("late"), None)
        .await;
    assert!(
        matches!(late_write, Err(StoreError::ClaimLost { .. })),
        "{late_write:?}"
    );
    assert_eq!(
        app.store.run(queued.id).await.unwrap().status,
        RunStatus::Succeeded
    );
}

/// Other processes on the store have used the key's day but for one request: the run checks
/// the list, finds it cannot finish today, and waits in the queue for the reset — nothing sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_does_not_fit_what_is_left_today_waits_for_the_reset() {
    let app = spawn_engine(30, |_, api| *api = api.clone().with_daily_quota(500)).await;
    let today = Utc::now().date_naive();
    app.store
        .settle_requests(&app.client_id, today, 0, 499)
        .await
        .unwrap();
    let workers = Workers::start(&app.engine);
    let run = app.queue_run().await;
    let deferred = app.run_once(run.id, |run| run.not_before.is_some()).await;
    workers.stop(Duration::from_secs(5)).await;

    assert_eq!(deferred.status, RunStatus::Queued);
    let midnight = (today + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    assert_eq!(deferred.not_before, Some(midnight));
    let reason = deferred.reason.unwrap();
    assert!(reason.contains("deferred until the reset"), "{reason}");
    assert!(app.list_members().is_empty(), "nothing was sent");
    assert_eq!(app.imports_received(), 0);
    let day = app.store.quota_day(&app.client_id, today).await.unwrap();
    assert_eq!(day.reserved, 0, "a deferred run holds no reservation");
}

/// A scheduled run queues as the connection's export user of the moment; when that user is
/// disabled or demoted before a worker takes the run, it fails naming them, sends nothing, and
/// is in the feed the alerts read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_export_user_may_no_longer_run_exports_fails_and_sends_nothing() {
    let app = spawn_engine(10, |_, _| {}).await;
    app.store
        .create_user(&segsync_store::NewUser {
            username: "grace".into(),
            display_name: "Grace".into(),
            role: segsync_store::Role::Admin,
            password_hash: "unused".into(),
        })
        .await
        .unwrap();
    let before = Utc::now() - chrono::Duration::seconds(1);
    let mut failed = Vec::new();
    for (change, why) in [
        ("disabled", "(disabled)"),
        ("demoted", "(no longer an admin)"),
    ] {
        let run = app.queue_run().await;
        match change {
            "disabled" => {
                app.store
                    .set_user_disabled(app.user_id, true)
                    .await
                    .unwrap();
            }
            _ => {
                app.store
                    .set_user_disabled(app.user_id, false)
                    .await
                    .unwrap();
                app.store
                    .set_user_role(app.user_id, segsync_store::Role::Contributor)
                    .await
                    .unwrap();
            }
        }
        let workers = Workers::start(&app.engine);
        let ended = app.run_once(run.id, |run| run.finished_at.is_some()).await;
        workers.stop(Duration::from_secs(5)).await;
        assert_eq!(ended.status, RunStatus::Failed, "{change}");
        let reason = ended.reason.clone().unwrap();
        assert!(
            reason.contains("the export user \"ada\" may no longer run exports")
                && reason.contains(why),
            "{reason}"
        );
        failed.push(run.id);
    }
    assert_eq!(app.imports_received(), 0, "nothing was sent");
    let alerted: Vec<_> = app
        .store
        .runs_ended_badly(&segsync_store::FeedCursor::at(before), Utc::now(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|run| run.id)
        .collect();
    assert_eq!(alerted, failed, "both failures are in the alerts' feed");
}

/// Constant Contact takes an import and never answers: the run stops asking at its time budget,
/// waits the grace for its batch in flight, then is abandoned — Failed, saying so — and its
/// export may run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_hung_past_its_time_budget_fails_and_frees_its_export() {
    let app = spawn_engine(20, |runs, _| {
        runs.max_run_seconds = 1;
        runs.shutdown_grace_seconds = 1;
    })
    .await;
    app.sandbox
        .state()
        .add_fault(Fault::answer_late("contacts_json_import", 1, 600_000));
    let workers = Workers::start(&app.engine);
    let run = app.queue_run().await;
    let started = std::time::Instant::now();
    let ended = app.run_once(run.id, |run| run.finished_at.is_some()).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "ended in {:?}",
        started.elapsed()
    );
    assert_eq!(ended.status, RunStatus::Failed, "{:?}", ended.reason);
    let reason = ended.reason.unwrap();
    assert!(reason.contains("never answered"), "{reason}");
    app.sandbox.state().clear_faults();
    let again = app.queue_run().await;
    let again = app
        .run_once(again.id, |run| run.finished_at.is_some())
        .await;
    workers.stop(Duration::from_secs(5)).await;
    assert_eq!(again.status, RunStatus::Succeeded, "{:?}", again.reason);
}
