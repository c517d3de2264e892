//! The alert feeds: runs that ended badly and connections that came to need re-authentication,
//! in order, after a cursor, and each change once.

use chrono::{Duration, Utc};
use segsync_store::{FeedCursor, Health, RunStatus, Trigger};

use crate::backends::{TestStore, on_both};
use crate::runs::an_export;

/// Queues, claims and ends a run of `export` with `status`; returns its id.
async fn a_run_ending(store: &TestStore, export: uuid::Uuid, status: RunStatus) -> uuid::Uuid {
    let run = store
        .queue_run(export, Trigger::Manual, None, None)
        .await
        .unwrap();
    let claimed = store.claim_next_run("node").await.unwrap().unwrap();
    store
        .finish_run(&claimed.held_claim(), status, Some("why"), None)
        .await
        .unwrap();
    run.id
}

async fn runs_that_ended_badly_come_in_order_after_the_cursor(store: TestStore) {
    let (export, _) = an_export(&store).await;
    let start = FeedCursor::at(Utc::now() - Duration::seconds(1));
    let failed = a_run_ending(&store, export, RunStatus::Failed).await;
    a_run_ending(&store, export, RunStatus::Succeeded).await;
    a_run_ending(&store, export, RunStatus::Cancelled).await;
    let timed_out = a_run_ending(&store, export, RunStatus::TimedOut).await;
    let now = Utc::now() + Duration::seconds(1);

    let all = store.runs_ended_badly(&start, now, 10).await.unwrap();
    let ids: Vec<_> = all.iter().map(|run| run.id).collect();
    assert_eq!(
        ids,
        [failed, timed_out],
        "only failed and timed out, oldest first"
    );

    let first = store.runs_ended_badly(&start, now, 1).await.unwrap();
    assert_eq!(first.len(), 1, "the limit holds");
    let after_first = FeedCursor {
        at_ms: first[0].finished_at.unwrap().timestamp_millis(),
        id: first[0].id.to_string(),
    };
    let rest = store.runs_ended_badly(&after_first, now, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|run| run.id).collect::<Vec<_>>(),
        [timed_out]
    );
    assert!(
        store
            .runs_ended_badly(&start, start_time(&start), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing that ended after `until` comes yet"
    );
}
on_both!(runs_that_ended_badly_come_in_order_after_the_cursor);

fn start_time(cursor: &FeedCursor) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_millis(cursor.at_ms).unwrap()
}

async fn a_connection_comes_once_each_time_it_comes_to_need_reauthentication(store: TestStore) {
    let (export, _) = an_export(&store).await;
    let connection = store
        .export(export)
        .await
        .unwrap()
        .connection_id
        .expect("the export has its connection");
    let start = FeedCursor::at(Utc::now() - Duration::seconds(1));
    let later = || Utc::now() + Duration::seconds(1);
    assert!(
        store
            .connections_needing_reauthentication(&start, later(), 10)
            .await
            .unwrap()
            .is_empty()
    );

    store
        .set_connection_health(connection, Health::NeedsReauthentication, Some("refused"))
        .await
        .unwrap();
    let first = store
        .connections_needing_reauthentication(&start, later(), 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].health_reason.as_deref(), Some("refused"));
    let changed_at = first[0].health_changed_at.expect("the change is dated");

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store
        .set_connection_health(connection, Health::NeedsReauthentication, Some("again"))
        .await
        .unwrap();
    let after_first = FeedCursor {
        at_ms: changed_at.timestamp_millis(),
        id: connection.to_string(),
    };
    assert!(
        store
            .connections_needing_reauthentication(&after_first, later(), 10)
            .await
            .unwrap()
            .is_empty(),
        "the same health set again is no change"
    );

    store
        .set_connection_tokens(connection, b"sealed")
        .await
        .unwrap();
    assert_eq!(
        store.connection(connection).await.unwrap().health,
        Health::Healthy
    );
    assert!(
        store
            .connections_needing_reauthentication(&start, later(), 10)
            .await
            .unwrap()
            .is_empty(),
        "a connection authenticated again needs nothing"
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store
        .set_connection_health(connection, Health::NeedsReauthentication, Some("revoked"))
        .await
        .unwrap();
    let second = store
        .connections_needing_reauthentication(&after_first, later(), 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "needing it again is a new change");
    assert!(second[0].health_changed_at.unwrap() > changed_at);
}
on_both!(a_connection_comes_once_each_time_it_comes_to_need_reauthentication);
