//! Runs: one active per export, claimed once, finished once, and none left running after a
//! crash.

use segsync_domain::RunProgress;
use segsync_domain::run_report::RunReport;
use segsync_store::{
    ExportDraft, NewConnection, NewUser, QueueError, Role, RunFilter, RunStatus, SegmentDraft,
    StoreError, Trigger, UsableBy,
};

use crate::backends::{TestStore, on_both};

pub(crate) async fn an_export(store: &TestStore) -> (uuid::Uuid, uuid::Uuid) {
    let by = store
        .create_user(&NewUser {
            username: "ada".into(),
            display_name: "Ada".into(),
            role: Role::Admin,
            password_hash: "x".into(),
        })
        .await
        .unwrap()
        .id;
    let segment = store
        .create_segment(
            &SegmentDraft {
                name: "all".into(),
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
                name: "nightly".into(),
                connection_id: connection.id,
                list_id: uuid::Uuid::new_v4(),
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
    (export.id, by)
}

async fn one_run_per_export_claimed_once_and_never_left_running(store: TestStore) {
    let (export, by) = an_export(&store).await;
    let queued = store
        .queue_run(export, Trigger::Manual, Some(by), Some(by))
        .await
        .unwrap();
    assert_eq!(queued.status, RunStatus::Queued);
    match store
        .queue_run(export, Trigger::RunAll, Some(by), Some(by))
        .await
    {
        Err(QueueError::AlreadyActive(active)) => assert_eq!(
            active, queued.id,
            "the second request learns the running run's id"
        ),
        other => panic!("a second active run was allowed: {other:?}"),
    }

    let claimed = store
        .claim_next_run("node-a")
        .await
        .unwrap()
        .expect("the queued run");
    assert_eq!(
        (claimed.id, claimed.status),
        (queued.id, RunStatus::Running)
    );
    assert!(claimed.started_at.is_some());
    assert!(
        store.claim_next_run("node-a").await.unwrap().is_none(),
        "a run is claimed once"
    );

    store
        .set_run_progress(
            &claimed.held_claim(),
            &RunProgress {
                members_processed: 10,
                ..RunProgress::default()
            },
        )
        .await
        .unwrap();
    assert!(store.request_cancel(claimed.id).await.unwrap());
    let read = store.run(claimed.id).await.unwrap();
    assert_eq!(
        read.progress.map(|progress| progress.members_processed),
        Some(10)
    );
    assert_eq!(read.node_id.as_deref(), Some("node-a"));
    assert!(
        store
            .set_run_progress(
                &claimed.held_claim(),
                &RunProgress {
                    members_processed: 11,
                    ..RunProgress::default()
                }
            )
            .await
            .unwrap(),
        "the worker learns of the cancellation when it writes progress"
    );
    assert!(read.cancel_requested);

    let report = RunReport {
        sent: 10,
        ..RunReport::default()
    };
    store
        .finish_run(
            &claimed.held_claim(),
            RunStatus::Cancelled,
            Some("cancelled by ada"),
            Some(&report),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .finish_run(&claimed.held_claim(), RunStatus::Succeeded, None, None)
                .await,
            Err(StoreError::ClaimLost { .. })
        ),
        "an ended run stays ended"
    );
    assert_eq!(store.run(claimed.id).await.unwrap().report, Some(report));

    let next = store
        .queue_run(export, Trigger::Schedule, None, Some(by))
        .await
        .expect("the export is free again");
    store.claim_next_run("node-a").await.unwrap();
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    const REASON: &str = "the run was interrupted too many times";
    assert_eq!(
        store
            .requeue_interrupted_runs(REASON, an_hour_ago, 1)
            .await
            .unwrap(),
        (0, 0),
        "a run whose worker beats is left alone"
    );
    let just_now = || chrono::Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(
        store
            .requeue_interrupted_runs(REASON, just_now(), 1)
            .await
            .unwrap(),
        (1, 0),
        "a silent run goes back to the queue"
    );
    let requeued = store.run(next.id).await.unwrap();
    assert_eq!((requeued.status, requeued.resumed), (RunStatus::Queued, 1));
    assert_eq!(requeued.node_id, None);
    let resumed = store.claim_next_run("node-b").await.unwrap().unwrap();
    assert_eq!(resumed.id, next.id, "the same run is taken up again");
    assert_eq!(
        store
            .requeue_interrupted_runs(REASON, just_now(), 1)
            .await
            .unwrap(),
        (0, 1),
        "a run resumed as often as allowed is closed instead"
    );
    let closed = store.run(next.id).await.unwrap();
    assert_eq!(closed.status, RunStatus::Failed);
    assert_eq!(closed.reason.as_deref(), Some(REASON));
    let skipped = store
        .record_skipped_run(
            export,
            Trigger::Schedule,
            None,
            "the connection was detached",
        )
        .await
        .unwrap();
    assert_eq!(skipped.status, RunStatus::Skipped);
    assert!(skipped.finished_at.is_some());
    let history = store.runs_of_export(export, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].id, skipped.id, "newest first");
    let failed = RunFilter {
        status: Some(RunStatus::Failed),
        ..RunFilter::default()
    };
    let page = store.runs(&failed, 10, 0).await.unwrap();
    assert_eq!(page.iter().map(|run| run.id).collect::<Vec<_>>(), [next.id]);
    assert!(store.runs(&failed, 10, 1).await.unwrap().is_empty());
    let counts = store.count_runs_by_status().await.unwrap();
    for status in [RunStatus::Failed, RunStatus::Cancelled, RunStatus::Skipped] {
        assert!(counts.contains(&(status, 1)), "{counts:?}");
    }
    assert_eq!(store.latest_runs().await.unwrap()[0].id, skipped.id);
    let today = chrono::Utc::now().date_naive();
    let per_day = store
        .runs_per_day(chrono::Utc::now() - chrono::Duration::days(1))
        .await
        .unwrap();
    for status in [RunStatus::Failed, RunStatus::Cancelled, RunStatus::Skipped] {
        assert!(per_day.contains(&(today, status, 1)), "{per_day:?}");
    }
    assert!(
        store
            .runs_per_day(chrono::Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap()
            .is_empty(),
        "nothing from tomorrow on"
    );

    let long = store
        .queue_run(export, Trigger::Schedule, None, None)
        .await
        .unwrap();
    let long_claim = store
        .claim_next_run("node-a")
        .await
        .unwrap()
        .unwrap()
        .held_claim();
    let left_out: Vec<(String, String)> = (0..701)
        .map(|n| (format!("bad-{n}"), "malformed".to_owned()))
        .collect();
    store.add_run_skips(&long_claim, &left_out).await.unwrap();
    assert_eq!(
        store.run_skips(long.id).await.unwrap().len(),
        701,
        "chunked inserts keep every row"
    );
    assert!(store.run_skips(skipped.id).await.unwrap().is_empty());
    // Page after page: twice the same member where it was skipped twice, none lost between.
    store
        .add_run_skips(&long_claim, &[("bad-7".to_owned(), "malformed".to_owned())])
        .await
        .unwrap();
    let mut paged = Vec::new();
    loop {
        let page = store
            .run_skips_page(long.id, paged.len() as u64, 100)
            .await
            .unwrap();
        let last = page.len() < 100;
        paged.extend(page);
        if last {
            break;
        }
    }
    // The database's collation orders them; each member comes once per skip all the same.
    paged.sort();
    let mut every = left_out.clone();
    every.push(("bad-7".to_owned(), "malformed".to_owned()));
    every.sort();
    assert_eq!(paged, every);
    store
        .finish_run(
            &long_claim,
            RunStatus::TimedOut,
            Some("an hour passed"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store.run(long.id).await.unwrap().status,
        RunStatus::TimedOut
    );
}
on_both!(one_run_per_export_claimed_once_and_never_left_running);

/// A run a guard stopped holds its export until a person confirms it (queued again, with the
/// removals allowed) or discards it (cancelled, the export free); the member-drop guard reads the
/// members of the last successful run.
async fn a_run_awaiting_confirmation_holds_its_export_until_confirmed_or_discarded(
    store: TestStore,
) {
    let (export, by) = an_export(&store).await;
    assert_eq!(store.members_at_last_success(export).await.unwrap(), None);
    let succeeded = store
        .queue_run(export, Trigger::Manual, Some(by), Some(by))
        .await
        .unwrap();
    let claimed = store.claim_next_run("node-a").await.unwrap().unwrap();
    assert_eq!(claimed.id, succeeded.id);
    let report = RunReport {
        profiles_in_segments: 1_000,
        ..RunReport::default()
    };
    store
        .finish_run(
            &claimed.held_claim(),
            RunStatus::Succeeded,
            None,
            Some(&report),
        )
        .await
        .unwrap();
    assert_eq!(
        store.members_at_last_success(export).await.unwrap(),
        Some(1_000)
    );

    let stopped = store
        .queue_run(export, Trigger::Schedule, None, Some(by))
        .await
        .unwrap();
    let claimed = store.claim_next_run("node-a").await.unwrap().unwrap();
    let guard = segsync_domain::RemovalGuards::default()
        .judge(
            &segsync_domain::RunFacts {
                profiles_read: 0,
                members_now: 0,
                members_before: Some(1_000),
                list_members: 1_000,
                removals_planned: 1_000,
            },
            None,
        )
        .unwrap();
    store
        .await_confirmation(&claimed.held_claim(), "empty", &guard)
        .await
        .unwrap();
    let waiting = store.run(stopped.id).await.unwrap();
    assert_eq!(waiting.status, RunStatus::AwaitingConfirmation);
    assert_eq!(waiting.guard.as_ref(), Some(&guard));
    assert!(waiting.finished_at.is_some() && waiting.node_id.is_none());
    assert!(
        store.claim_next_run("node-a").await.unwrap().is_none(),
        "no worker takes a run that waits for a person"
    );
    assert!(matches!(
        store.queue_run(export, Trigger::Manual, Some(by), Some(by)).await,
        Err(QueueError::AlreadyActive(id)) if id == stopped.id
    ));

    assert!(store.confirm_run(stopped.id, by, 1_000).await.unwrap());
    assert!(
        !store.confirm_run(stopped.id, by, 1_000).await.unwrap(),
        "confirmed once"
    );
    assert!(!store.discard_run(stopped.id, "too late").await.unwrap());
    let confirmed = store.claim_next_run("node-a").await.unwrap().unwrap();
    assert_eq!(confirmed.id, stopped.id);
    assert_eq!(confirmed.confirmed_removals, Some(1_000));
    assert_eq!(confirmed.confirmed_by, Some(by));
    store
        .await_confirmation(&confirmed.held_claim(), "worse", &guard)
        .await
        .unwrap();
    assert!(
        store
            .discard_run(stopped.id, "discarded by ada")
            .await
            .unwrap()
    );
    let discarded = store.run(stopped.id).await.unwrap();
    assert_eq!(discarded.status, RunStatus::Cancelled);
    assert_eq!(discarded.reason.as_deref(), Some("discarded by ada"));
    assert!(
        store
            .queue_run(export, Trigger::Manual, Some(by), Some(by))
            .await
            .is_ok(),
        "a discarded run frees its export"
    );
}
on_both!(a_run_awaiting_confirmation_holds_its_export_until_confirmed_or_discarded);
