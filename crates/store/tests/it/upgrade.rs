//! A store made by an earlier version keeps its data through the migrations that came after.

use std::path::Path;

use segsync_store::{RunStatus, Store, Trigger};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

/// The migrations of the schema before runs could end `timed_out`.
const BEFORE_TIMED_OUT: &[&str] = &[
    "0001_initial.sql",
    "0002_run_nodes.sql",
    "0003_run_skips.sql",
    "0004_in_step.sql",
    "0005_quota.sql",
];

#[tokio::test]
async fn rebuilding_runs_on_sqlite_keeps_every_run_its_skips_and_its_batches() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("segsync.db");
    let earlier = folder.path().join("earlier-migrations");
    std::fs::create_dir(&earlier).unwrap();
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for file in BEFORE_TIMED_OUT {
        std::fs::copy(migrations.join(file), earlier.join(file)).unwrap();
    }
    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(&database)
            .create_if_missing(true)
            .foreign_keys(true),
    )
    .await
    .unwrap();
    sqlx::migrate::Migrator::new(earlier)
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let user = "00000000-0000-4000-8000-0000000000a1";
    let export = "00000000-0000-4000-8000-0000000000e1";
    let run = "00000000-0000-4000-8000-000000000001";
    for statement in [
        format!(
            "INSERT INTO users (id, username, display_name, role, password_hash, created_at) VALUES ('{user}', 'ada', 'Ada', 'admin', 'x', 0)"
        ),
        format!(
            "INSERT INTO exports (id, name, list_id, mapping, created_by, created_at, updated_by, updated_at) VALUES ('{export}', 'nightly', 'l-1', '{{}}', '{user}', 0, '{user}', 0)"
        ),
        format!(
            "INSERT INTO runs (id, export_id, status, reason, triggered_by, queued_at, finished_at) VALUES ('{run}', '{export}', 'failed', 'it broke', 'manual', 1, 2)"
        ),
        format!(
            "INSERT INTO run_skips (run_id, email, reason) VALUES ('{run}', 'bad@', 'malformed')"
        ),
        format!(
            "INSERT INTO run_batches (run_id, seq, state, planned_at, contacts) VALUES ('{run}', 0, 'completed', 1, 5)"
        ),
    ] {
        sqlx::query(&statement).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = Store::open(&format!("sqlite://{}", database.display()))
        .await
        .unwrap();

    let kept = store.run(run.parse().unwrap()).await.unwrap();
    assert_eq!(kept.status, RunStatus::Failed);
    assert_eq!(kept.reason.as_deref(), Some("it broke"));
    assert_eq!(
        store.run_skips(kept.id).await.unwrap(),
        [("bad@".to_owned(), "malformed".to_owned())]
    );
    assert_eq!(store.run_batches(kept.id).await.unwrap().len(), 1);
    for child in ["run_skips", "run_batches"] {
        let parents: Vec<String> = sqlx::query(&format!("PRAGMA foreign_key_list({child})"))
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>("table"))
            .collect();
        assert_eq!(parents, ["runs"], "{child} still refers to runs");
    }
    let dangling = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(dangling.is_empty());

    let next = store
        .queue_run(export.parse().unwrap(), Trigger::Manual, None, None)
        .await
        .unwrap();
    let claimed = store.claim_next_run("node").await.unwrap().unwrap();
    assert_eq!(claimed.id, next.id);
    store
        .finish_run(
            &claimed.held_claim(),
            RunStatus::TimedOut,
            Some("an hour passed"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store.run(next.id).await.unwrap().status,
        RunStatus::TimedOut
    );
}
