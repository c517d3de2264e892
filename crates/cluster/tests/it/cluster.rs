//! Segments evaluated on a Ballista cluster (a scheduler and two executors on loopback) give
//! the members the embedded engine gives; a cluster that cannot be reached makes the engine
//! unavailable before anything runs, and one without executors gives the query up.

use segsync_cluster::{SchedulerOptions, run_scheduler_on};
use segsync_engine::{EngineError, EngineSettings, ProfileSource, Profiles};

use crate::differential::{check_generated_segments, check_set_operations};
use crate::fixtures;
use crate::loopback_cluster::{LoopbackCluster, free_port};
use crate::s3_server::S3Server;

#[tokio::test]
async fn an_unreachable_scheduler_makes_the_engine_unavailable_before_anything_runs() {
    let folder = tempfile::tempdir().unwrap();
    let csv = folder.path().join("profiles.csv");
    std::fs::write(&csv, "id,email\n1,a@example.com\n").unwrap();
    let nowhere = format!("df://127.0.0.1:{}", free_port());
    let settings = EngineSettings::default().with_cluster(Some(nowhere.clone()));
    let error = Profiles::open_with(ProfileSource::new(csv.to_string_lossy()), &settings)
        .await
        .unwrap_err();
    assert!(
        matches!(error, EngineError::ClusterUnavailable { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("the engine is unavailable: the cluster at df://127.0.0.1:")
            && message.contains(&nowhere),
        "{message}"
    );
}

/// 150 generated rule trees and 30 set operations, on partitioned Parquet read by two
/// executors, against the independent evaluator: the members are the embedded engine's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_differential_suite_gives_the_same_members_on_a_cluster() {
    let cluster = LoopbackCluster::start(2).await;
    let folder = tempfile::tempdir().unwrap();
    let rows = fixtures::rows(3_000, 42);
    for (part, chunk) in rows.chunks(700).enumerate() {
        fixtures::write_parquet(&folder.path().join(format!("part-{part}.parquet")), chunk);
    }
    let source = ProfileSource::new(folder.path().to_string_lossy());
    let profiles = Profiles::open_with(source, &cluster.settings())
        .await
        .unwrap();
    assert_eq!(profiles.count_all().await.unwrap(), 3_000);
    check_generated_segments(&profiles, &rows, "Parquet on the cluster").await;
    check_set_operations(&profiles, &rows, "Parquet on the cluster").await;
}

/// The same suite with the Parquet parts in S3 (moto's server): the node plans with its
/// source's options, the executors open the bucket with their own (`--source-options`), and no
/// credential travels in a plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_differential_suite_gives_the_same_members_from_object_storage_on_a_cluster() {
    let s3 = S3Server::start();
    s3.create_bucket("lake").await;
    let folder = tempfile::tempdir().unwrap();
    let rows = fixtures::rows(3_000, 43);
    for (part, chunk) in rows.chunks(700).enumerate() {
        fixtures::write_parquet(&folder.path().join(format!("part-{part}.parquet")), chunk);
    }
    s3.upload("lake", folder.path(), "profiles").await;
    let source = s3.source("s3://lake/profiles/");
    let cluster = LoopbackCluster::start_reading(2, source.options.clone()).await;
    let profiles = Profiles::open_with(source, &cluster.settings())
        .await
        .unwrap();
    assert_eq!(profiles.count_all().await.unwrap(), 3_000);
    check_generated_segments(&profiles, &rows, "Parquet in S3 on the cluster").await;
    check_set_operations(&profiles, &rows, "Parquet in S3 on the cluster").await;
}

/// The scheduler says which executors are alive, with their slots and last heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_says_which_executors_are_alive_with_their_slots() {
    let cluster = LoopbackCluster::start(2).await;
    let status = segsync_engine::cluster_status(&cluster.url, None)
        .await
        .unwrap();
    assert_eq!(status.alive().count(), 2, "{status:?}");
    assert_eq!(status.alive_slots(), 4, "two slots each: {status:?}");
    let mut addresses: Vec<String> = status.executors.iter().map(|e| e.address.clone()).collect();
    addresses.sort();
    let mut expected: Vec<String> = cluster
        .flight_ports
        .iter()
        .map(|port| format!("127.0.0.1:{port}"))
        .collect();
    expected.sort();
    assert_eq!(addresses, expected);
    assert!(
        status
            .executors
            .iter()
            .all(|executor| executor.seconds_since_heartbeat.is_some_and(|s| s <= 5)),
        "{status:?}"
    );
}

/// Nobody answers at the address: the status says the cluster is unavailable.
#[tokio::test]
async fn the_status_of_a_cluster_nobody_answers_for_is_unavailable() {
    let nowhere = format!("df://127.0.0.1:{}", free_port());
    let error = segsync_engine::cluster_status(&nowhere, None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, EngineError::ClusterUnavailable { .. }),
        "{error:?}"
    );
}

/// A scheduler with no executor gives the query up after its wait, and the node says so,
/// instead of waiting for an executor for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_no_executor_is_up_to_run_is_given_up() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = SchedulerOptions {
        port,
        executor_wait_seconds: 2,
        ..SchedulerOptions::default()
    };
    let scheduler = tokio::spawn(run_scheduler_on(listener, options));
    let folder = tempfile::tempdir().unwrap();
    let csv = folder.path().join("profiles.csv");
    std::fs::write(&csv, "id,email\n1,a@example.com\n").unwrap();
    let settings = EngineSettings::default().with_cluster(Some(format!("df://127.0.0.1:{port}")));
    let profiles = Profiles::open_with(ProfileSource::new(csv.to_string_lossy()), &settings)
        .await
        .unwrap();

    let error = tokio::time::timeout(std::time::Duration::from_secs(30), profiles.count_all())
        .await
        .expect("the query was given up within 30 s")
        .unwrap_err();
    assert!(
        matches!(error, EngineError::ClusterUnavailable { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("no executor was up to run it"),
        "{error}"
    );
    scheduler.abort();
}
