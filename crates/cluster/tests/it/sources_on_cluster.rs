//! Delta tables and PostgreSQL tables evaluated on a loopback cluster: the differential suite
//! gives the embedded engine's members; a Delta table is read at the version the node planned;
//! a PostgreSQL table is read by the executors in shares, with their own password.

use deltalake_core::DeltaTable;
use deltalake_core::protocol::SaveMode;
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::{EngineSettings, ProfileSource, Profiles, SourceOptions};
use url::Url;

use crate::delta_writer::write_delta;
use crate::differential::{check_generated_segments, check_set_operations};
use crate::fixtures::{self, Row};
use crate::loopback_cluster::LoopbackCluster;
use crate::postgres_database::PostgresProfiles;
use crate::s3_server::S3Server;

/// `rows` as a new Delta table partitioned by `active` (true, false and null partitions).
async fn write_partitioned_delta(folder: &std::path::Path, rows: &[Row]) {
    std::fs::create_dir_all(folder).unwrap();
    let table = DeltaTable::try_from_url(Url::from_directory_path(folder).unwrap())
        .await
        .unwrap();
    let batches: Vec<RecordBatch> = rows.chunks(500).map(fixtures::batch).collect();
    table
        .write(batches)
        .with_save_mode(SaveMode::Append)
        .with_partition_columns(["active"])
        .await
        .unwrap();
}

/// A partitioned Delta table in S3 (moto's server), read by two executors opening the bucket
/// with their own options: the members are the independent evaluator's, and the embedded
/// engine's count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_differential_suite_gives_the_same_members_from_a_delta_table_on_a_cluster() {
    let s3 = S3Server::start();
    s3.create_bucket("lake").await;
    let folder = tempfile::tempdir().unwrap();
    let rows = fixtures::rows(3_000, 47);
    let table = folder.path().join("profiles");
    write_partitioned_delta(&table, &rows[..1_800]).await;
    write_partitioned_delta(&table, &rows[1_800..]).await;
    s3.upload("lake", &table, "tables/profiles").await;
    let source = s3.source("s3://lake/tables/profiles/");
    let cluster = LoopbackCluster::start_reading(2, source.options.clone()).await;
    let profiles = Profiles::open_with(source.clone(), &cluster.settings())
        .await
        .unwrap();
    assert_eq!(profiles.snapshot().delta_version, Some(1));
    assert_eq!(profiles.count_all().await.unwrap(), 3_000);
    check_generated_segments(&profiles, &rows, "a Delta table in S3 on the cluster").await;
    check_set_operations(&profiles, &rows, "a Delta table in S3 on the cluster").await;

    let older = Profiles::open_with(source.with_option("version", "0"), &cluster.settings())
        .await
        .unwrap();
    assert_eq!(
        older.count_all().await.unwrap(),
        1_800,
        "version 0, as asked"
    );
}

/// The executors read the version the node planned, even when the table moves on meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_executors_read_the_version_the_node_planned() {
    let folder = tempfile::tempdir().unwrap();
    let rows = fixtures::rows(1_000, 48);
    let table = folder.path().join("profiles");
    write_delta(&table, &rows[..600]).await;
    let cluster = LoopbackCluster::start(2).await;
    let planned = Profiles::open_with(
        ProfileSource::new(table.to_string_lossy()),
        &cluster.settings(),
    )
    .await
    .unwrap();
    write_delta(&table, &rows[600..]).await;
    assert_eq!(planned.snapshot().delta_version, Some(0));
    assert_eq!(planned.count_all().await.unwrap(), 600);
    let latest = Profiles::open_with(
        ProfileSource::new(table.to_string_lossy()),
        &cluster.settings(),
    )
    .await
    .unwrap();
    assert_eq!(latest.count_all().await.unwrap(), 1_000);
}

/// A PostgreSQL table split among three tasks by its key, and a view read whole: the executors
/// connect with the password of their own source options, which no plan carries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_differential_suite_gives_the_same_members_from_postgres_on_a_cluster() {
    let rows = fixtures::rows(3_000, 49);
    let database = PostgresProfiles::create(&rows).await;
    let executors_own = SourceOptions::default().with("password", &database.password);
    let cluster = LoopbackCluster::start_reading(2, executors_own).await;
    let split = database
        .source("crm.profiles")
        .with_option("partition_column", "id")
        .with_option("partitions", "3");
    let profiles = Profiles::open_with(split, &cluster.settings())
        .await
        .unwrap();
    assert_eq!(profiles.count_all().await.unwrap(), 3_000);
    check_generated_segments(&profiles, &rows, "PostgreSQL in shares on the cluster").await;
    check_set_operations(&profiles, &rows, "PostgreSQL in shares on the cluster").await;

    let adults = Profiles::open_with(database.source("crm.adults"), &cluster.settings())
        .await
        .unwrap();
    let expected = rows.iter().filter(|row| row.age >= Some(18)).count();
    assert_eq!(adults.count_all().await.unwrap(), expected as u64);
    let embedded = Profiles::open_with(database.source("crm.adults"), &EngineSettings::default())
        .await
        .unwrap();
    assert_eq!(embedded.count_all().await.unwrap(), expected as u64);
}

/// An executor without the database's password fails the query with PostgreSQL's words, which
/// the node reports as the source's failure, never as the engine's unavailability.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_executor_without_the_password_fails_the_query_as_the_source_s() {
    let rows = fixtures::rows(50, 50);
    let database = PostgresProfiles::create(&rows).await;
    let cluster = LoopbackCluster::start(1).await;
    let profiles = Profiles::open_with(database.source("crm.profiles"), &cluster.settings())
        .await
        .unwrap();
    let error = profiles.count_all().await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("PostgreSQL") && !message.contains("unavailable"),
        "{message}"
    );
    // (The test server's password is also its user's name.)
    assert!(
        !message.contains(&format!(":{}@", database.password)),
        "{message}"
    );
}
