//! Runs that follow the data: a new Delta version of a related table starts the run of the
//! export whose segment reads it, and only that one; a profile file rewritten across two looks
//! starts nothing until it settles; no change starts no run; a clock run over unchanged data is
//! skipped; two nodes on PostgreSQL start one run per change.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::{ProfileFormat, ProfileSource, RelatedTable};
use segsync_runs::follow::{Sightings, WatchConfig};
use segsync_runs::{RunSettings, Started, Workers, schedule};
use segsync_store::{Export, ExportDraft, Run, RunStatus, SegmentDraft, Trigger};
use serde_json::json;

use crate::helpers::{TestEngine, profiles_csv, spawn_engine_on};

/// The orders of `emails`, one each.
fn orders(emails: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("email", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(emails.to_vec())),
        Arc::new(Float64Array::from(vec![10.0; emails.len()])),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn orders_source(folder: &std::path::Path) -> ProfileSource {
    ProfileSource::new(folder.join("orders").to_string_lossy()).with_format(ProfileFormat::Delta)
}

/// Orders as a related table, watched every minute with a minute to settle.
fn follow_the_data(settings: &mut RunSettings, folder: &std::path::Path) {
    settings.related = vec![RelatedTable {
        name: "orders".to_owned(),
        source: orders_source(folder),
        key: "email".to_owned(),
        profile_key: "email".to_owned(),
        dated_by: None,
    }];
    settings.watch = WatchConfig {
        watch_seconds: 60,
        settle_seconds: 60,
        max_runs_per_day: 24,
        min_minutes_between: 0,
    };
}

/// An engine over five profiles and a Delta table of orders, whose system schedule follows
/// the data; a second export sends the buyers (a segment over orders) to another list.
async fn engine_following_the_data(database_url: Option<String>) -> (TestEngine, Export) {
    let app = spawn_engine_on(
        5,
        database_url,
        |runs, _| runs.scheduler = false,
        follow_the_data,
    )
    .await;
    orders_source(app.folder.path())
        .append(orders(&["person-1@example.com"]), "orders")
        .await
        .unwrap();
    app.store
        .replace_setting(
            schedule::SETTING,
            None,
            &json!({ "frequency": "on_change", "times": [], "time_zone": "UTC" }),
        )
        .await
        .unwrap();
    let buyers = app
        .store
        .create_segment(
            &SegmentDraft {
                name: "buyers".into(),
                description: None,
                rule: serde_json::from_value(json!({ "has": "orders" })).unwrap(),
            },
            app.user_id,
        )
        .await
        .unwrap();
    let elsewhere = app
        .sandbox
        .state()
        .lists()
        .into_iter()
        .find(|list| list.name == "Elsewhere")
        .unwrap()
        .list_id;
    let buyers_export = app
        .store
        .create_export(
            &ExportDraft {
                name: "buyers".into(),
                connection_id: app.export.connection_id.unwrap(),
                list_id: elsewhere,
                mapping: [("email".to_owned(), "email".to_owned())].into(),
                schedule_override: None,
                sync_mode: segsync_domain::SyncMode::AddOnly,
                guards: Default::default(),
                verify: Default::default(),
                segment_ids: vec![buyers.id],
            },
            app.user_id,
        )
        .await
        .unwrap();
    (app, buyers_export)
}

fn queued(started: &[Started]) -> Vec<Run> {
    started
        .iter()
        .filter_map(|outcome| match outcome {
            Started::Queued(run) => Some(run.clone()),
            Started::Skipped(_) => None,
        })
        .collect()
}

/// Waits for every run to end, and checks that each succeeded.
async fn all_succeed(app: &TestEngine, runs: &[Run]) {
    for run in runs {
        let ended = app.run_once(run.id, |run| run.finished_at.is_some()).await;
        assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);
        assert_eq!(ended.trigger, Trigger::OnChange);
    }
}

fn later(start: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    start + chrono::Duration::seconds(seconds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_settled_starts_the_runs_of_the_exports_that_read_it_and_no_others() {
    let (app, buyers) = engine_following_the_data(None).await;
    let workers = Workers::start(&app.engine);
    let sightings = Sightings::default();
    let t0 = Utc::now();

    // Never run: once the sources have settled, both exports run.
    assert!(
        app.engine
            .watch_once(&sightings, t0)
            .await
            .unwrap()
            .is_empty()
    );
    let first = queued(
        &app.engine
            .watch_once(&sightings, later(t0, 61))
            .await
            .unwrap(),
    );
    assert_eq!(first.len(), 2);
    all_succeed(&app, &first).await;

    // No change, no run.
    assert!(
        app.engine
            .watch_once(&sightings, later(t0, 180))
            .await
            .unwrap()
            .is_empty()
    );

    // A new version of the orders: only the buyers' export reads them.
    orders_source(app.folder.path())
        .append(orders(&["person-2@example.com"]), "orders")
        .await
        .unwrap();
    assert!(
        app.engine
            .watch_once(&sightings, later(t0, 240))
            .await
            .unwrap()
            .is_empty()
    );
    let second = queued(
        &app.engine
            .watch_once(&sightings, later(t0, 301))
            .await
            .unwrap(),
    );
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].export_id, buyers.id);
    all_succeed(&app, &second).await;
    let report = app.store.run(second[0].id).await.unwrap().report.unwrap();
    assert_eq!(
        report.source.related[0].read.version.as_deref(),
        Some("Delta version 1"),
        "{:?}",
        report.source
    );

    // The profiles are rewritten across two looks: nothing starts until they settle.
    let profiles = app.folder.path().join("profiles.csv");
    std::fs::write(&profiles, profiles_csv(6)).unwrap();
    assert!(
        app.engine
            .watch_once(&sightings, later(t0, 400))
            .await
            .unwrap()
            .is_empty()
    );
    std::fs::write(&profiles, profiles_csv(7)).unwrap();
    assert!(
        app.engine
            .watch_once(&sightings, later(t0, 440))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        app.engine
            .watch_once(&sightings, later(t0, 480))
            .await
            .unwrap()
            .is_empty()
    );
    let third = queued(
        &app.engine
            .watch_once(&sightings, later(t0, 501))
            .await
            .unwrap(),
    );
    assert_eq!(third.len(), 2, "both exports read the profiles");
    all_succeed(&app, &third).await;
    assert_eq!(app.list_members().len(), 7);
    workers.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_run_over_unchanged_data_is_skipped_and_runs_again_once_it_changed() {
    let app = spawn_engine_on(3, None, |runs, _| runs.scheduler = false, |_, _| {}).await;
    app.store
        .replace_setting(
            schedule::SETTING,
            None,
            &json!({ "frequency": "daily", "times": ["00:00:00"], "time_zone": "UTC", "skip_unchanged": true }),
        )
        .await
        .unwrap();
    let workers = Workers::start(&app.engine);
    let run = app.queue_run().await;
    let ended = app.run_once(run.id, |run| run.finished_at.is_some()).await;
    assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);

    let t0 = Utc::now();
    assert!(schedule::tick(&app.engine, t0).await.unwrap().is_empty());
    let next_day = later(t0, 86_400);
    let started = schedule::tick(&app.engine, next_day).await.unwrap();
    let [Started::Skipped(skipped)] = started.as_slice() else {
        panic!("one skipped run: {started:?}");
    };
    let reason = skipped.reason.clone().unwrap();
    assert!(reason.starts_with("unchanged since "), "{reason}");

    std::fs::write(app.folder.path().join("profiles.csv"), profiles_csv(4)).unwrap();
    let started = schedule::tick(&app.engine, later(next_day, 86_400))
        .await
        .unwrap();
    let [Started::Queued(run)] = started.as_slice() else {
        panic!("one queued run: {started:?}");
    };
    let ended = app.run_once(run.id, |run| run.finished_at.is_some()).await;
    assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);
    workers.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgresql_start_one_run_per_change() {
    let (app, _) = engine_following_the_data(Some(fresh_postgres_database().await)).await;
    let other = app.another_node().await;
    let (here, there) = (Sightings::default(), Sightings::default());
    let t0 = Utc::now();
    assert!(app.engine.watch_once(&here, t0).await.unwrap().is_empty());
    assert!(other.watch_once(&there, t0).await.unwrap().is_empty());
    let settled = later(t0, 61);
    let (a, b) = tokio::join!(
        app.engine.watch_once(&here, settled),
        other.watch_once(&there, settled)
    );
    let started = queued(&a.unwrap()).len() + queued(&b.unwrap()).len();
    assert_eq!(started, 2, "each of the two exports started once");
    let runs = app
        .store
        .runs(&segsync_store::RunFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(runs.len(), 2, "nothing recorded twice: {runs:?}");
}

/// A fresh database on the PostgreSQL server named by `POSTGRES_TEST_URL`.
async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let server = std::env::var("POSTGRES_TEST_URL").expect(
        "POSTGRES_TEST_URL names the PostgreSQL server for tests of several nodes; ./scripts/test starts one and sets it",
    );
    let name = format!("segsync_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    url.to_string()
}
