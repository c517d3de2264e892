//! Delta Lake tables the tests write with `deltalake-core`: the latest version by default, an
//! older one when asked, a schema that changed between versions, and the same table in an
//! S3-compatible store.

use std::sync::Arc;

use deltalake_core::DeltaTable;
use deltalake_core::operations::write::SchemaMode;
use deltalake_core::protocol::SaveMode;
use segsync_engine::datafusion::arrow::array::{ArrayRef, StringArray};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::datafusion::prelude::{col, lit};
use segsync_engine::{EngineError, ProfileFormat, ProfileSource, Profiles, SourcePart};
use url::Url;

use crate::fixtures::{self, Row};
use crate::s3_server::S3Server;

/// Writes `rows` as a new Delta table (version 0), or appends them (the next version).
pub async fn write_delta(folder: &std::path::Path, rows: &[Row]) -> DeltaTable {
    std::fs::create_dir_all(folder).unwrap();
    let url = Url::from_directory_path(folder).unwrap();
    let table = DeltaTable::try_from_url(url).await.unwrap();
    let batches: Vec<RecordBatch> = rows.chunks(1_000).map(fixtures::batch).collect();
    table
        .write(batches)
        .with_save_mode(SaveMode::Append)
        .await
        .unwrap()
}

/// Version 2 of the table adds a `tier` column to what it holds.
async fn append_with_tier(folder: &std::path::Path, rows: &[Row], tier: &str) {
    let url = Url::from_directory_path(folder).unwrap();
    let table = DeltaTable::try_from_url(url).await.unwrap();
    let base = fixtures::batch(rows);
    let mut fields: Vec<Field> = base
        .schema()
        .fields()
        .iter()
        .map(|field| field.as_ref().clone())
        .collect();
    fields.push(Field::new("tier", DataType::Utf8, true));
    let mut columns: Vec<ArrayRef> = base.columns().to_vec();
    columns.push(Arc::new(StringArray::from(vec![Some(tier); rows.len()])));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    table
        .write(vec![batch])
        .with_save_mode(SaveMode::Append)
        .with_schema_mode(SchemaMode::Merge)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_latest_version_by_default_an_older_one_when_asked() {
    let folder = tempfile::tempdir().unwrap();
    let table = folder.path().join("profiles");
    let rows = fixtures::rows(900, 11);
    write_delta(&table, &rows[..400]).await;
    write_delta(&table, &rows[400..700]).await;
    append_with_tier(&table, &rows[700..], "gold").await;

    let latest = Profiles::open(ProfileSource::new(table.to_string_lossy()))
        .await
        .unwrap();
    assert_eq!(latest.snapshot().format, ProfileFormat::Delta);
    assert_eq!(latest.snapshot().delta_version, Some(2));
    assert_eq!(latest.count_all().await.unwrap(), 900);
    assert!(
        latest.schema().get("tier").is_some(),
        "the column added in version 2"
    );
    assert_eq!(
        latest
            .count(col("tier").eq(lit("gold")).into())
            .await
            .unwrap(),
        200
    );

    let first =
        Profiles::open(ProfileSource::new(table.to_string_lossy()).with_option("version", "0"))
            .await
            .unwrap();
    assert_eq!(first.snapshot().delta_version, Some(0));
    assert_eq!(first.count_all().await.unwrap(), 400);
    assert!(
        first.schema().get("tier").is_none(),
        "version 0 had no tier"
    );

    let missing =
        Profiles::open(ProfileSource::new(table.to_string_lossy()).with_option("version", "9"))
            .await
            .unwrap_err();
    assert!(
        matches!(
            missing,
            EngineError::Source {
                part: SourcePart::Options,
                ..
            }
        ),
        "{missing}"
    );
    let not_a_number = Profiles::open(
        ProfileSource::new(table.to_string_lossy()).with_option("version", "latest"),
    )
    .await
    .unwrap_err();
    assert!(
        not_a_number.to_string().contains("latest"),
        "{not_a_number}"
    );

    let plain_folder = folder.path().join("plain");
    std::fs::create_dir(&plain_folder).unwrap();
    fixtures::write_parquet(&plain_folder.join("p.parquet"), &rows[..10]);
    let not_delta = Profiles::open(
        ProfileSource::new(plain_folder.to_string_lossy()).with_format(ProfileFormat::Delta),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            not_delta,
            EngineError::Source {
                part: SourcePart::Format,
                ..
            }
        ),
        "{not_delta}"
    );
}

#[tokio::test]
async fn a_delta_table_in_s3_is_found_and_read_at_its_version() {
    let s3 = S3Server::start();
    s3.create_bucket("lake").await;
    let folder = tempfile::tempdir().unwrap();
    let table = folder.path().join("profiles");
    let rows = fixtures::rows(600, 3);
    write_delta(&table, &rows[..250]).await;
    write_delta(&table, &rows[250..]).await;
    s3.upload("lake", &table, "tables/profiles").await;

    let latest = Profiles::open(s3.source("s3://lake/tables/profiles"))
        .await
        .unwrap();
    assert_eq!(latest.snapshot().format, ProfileFormat::Delta);
    assert_eq!(latest.snapshot().delta_version, Some(1));
    assert_eq!(latest.count_all().await.unwrap(), 600);
    let first = Profiles::open(
        s3.source("s3://lake/tables/profiles/")
            .with_option("version", "0"),
    )
    .await
    .unwrap();
    assert_eq!(first.count_all().await.unwrap(), 250);
}
