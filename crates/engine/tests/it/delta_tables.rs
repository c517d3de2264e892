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
use segsync_engine::{
    EngineError, ProfileFormat, ProfileSource, Profiles, RelatedTable, SourcePart,
};
use url::Url;

use crate::delta_writer::write_delta;
use crate::fixtures::{self, Row};
use crate::s3_server::S3Server;

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

#[tokio::test]
async fn a_related_delta_table_is_read_at_its_version_and_says_which() {
    let folder = tempfile::tempdir().unwrap();
    let rows = fixtures::rows(300, 13);
    let profiles_path = folder.path().join("profiles.parquet");
    fixtures::write_parquet(&profiles_path, &rows);
    // The visits of the first 100 profiles (version 0), then of 150 more (version 1).
    let visits = folder.path().join("visits");
    write_delta(&visits, &rows[..100]).await;
    write_delta(&visits, &rows[100..250]).await;
    let segments = segsync_domain::segment::parse_segments(
        "segments:\n  - name: visitors\n    rule: { has: visits }\n",
        segsync_domain::segment::SegmentFormat::Yaml,
        "t.yaml",
    )
    .unwrap();

    for (version, visitors) in [(None, 250), (Some("0"), 100)] {
        let mut source = ProfileSource::new(visits.to_string_lossy());
        if let Some(version) = version {
            source = source.with_option("version", version);
        }
        let profiles = Profiles::open(ProfileSource::new(profiles_path.to_string_lossy()))
            .await
            .unwrap()
            .relate(&[RelatedTable {
                name: "visits".into(),
                source,
                key: "id".into(),
                profile_key: "id".into(),
                dated_by: None,
            }])
            .await
            .unwrap();
        let reads: Vec<_> = profiles
            .related_reads()
            .map(|(table, snapshot)| (table.name.clone(), snapshot))
            .collect();
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].0, "visits");
        assert_eq!(reads[0].1.format, ProfileFormat::Delta);
        let expected_version = if version.is_some() { 0 } else { 1 };
        assert_eq!(reads[0].1.delta_version, Some(expected_version));
        let membership = profiles
            .segment_expr(&segments[0], &segments, &crate::differential::clock())
            .unwrap();
        assert_eq!(profiles.count(membership).await.unwrap(), visitors);
    }
}
