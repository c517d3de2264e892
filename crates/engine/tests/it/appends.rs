//! Appending rows to a location written like a profile source's (what opt-outs are written back
//! to): a Parquet folder gets a file per append, a Delta table a commit per append (the first
//! creates it), and both read back as profile sources; a CSV location is refused by name.

use std::sync::Arc;

use segsync_engine::datafusion::arrow::array::{ArrayRef, StringArray};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::{ProfileFormat, ProfileSource, Profiles};

fn batch(emails: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "email",
        DataType::Utf8,
        false,
    )]));
    let column: ArrayRef = Arc::new(StringArray::from(emails.to_vec()));
    RecordBatch::try_new(schema, vec![column]).unwrap()
}

#[tokio::test]
async fn appends_to_a_parquet_folder_and_a_delta_table_read_back_as_sources() {
    let folder = tempfile::tempdir().unwrap();
    let parquet = folder.path().join("opt-outs");
    let target = ProfileSource::new(parquet.to_string_lossy());
    target
        .append(batch(&["a@example.com"]), "opt-outs")
        .await
        .unwrap();
    target
        .append(batch(&["b@example.com", "c@example.com"]), "opt-outs")
        .await
        .unwrap();
    assert_eq!(std::fs::read_dir(&parquet).unwrap().count(), 2);
    let read = Profiles::open(ProfileSource::new(parquet.to_string_lossy()))
        .await
        .unwrap();
    assert_eq!(read.count_all().await.unwrap(), 3);

    let delta = folder.path().join("opt-outs-delta");
    let target = ProfileSource::new(delta.to_string_lossy()).with_format(ProfileFormat::Delta);
    target
        .append(batch(&["a@example.com"]), "opt-outs")
        .await
        .unwrap();
    // Once the table exists its log says it is Delta; the format need not be given again.
    ProfileSource::new(delta.to_string_lossy())
        .append(batch(&["b@example.com"]), "opt-outs")
        .await
        .unwrap();
    let read = Profiles::open(ProfileSource::new(delta.to_string_lossy()))
        .await
        .unwrap();
    assert_eq!(read.snapshot().format, ProfileFormat::Delta);
    assert_eq!(read.snapshot().delta_version, Some(1));
    assert_eq!(read.count_all().await.unwrap(), 2);

    let refused = ProfileSource::new(folder.path().join("x.csv").to_string_lossy())
        .with_format(ProfileFormat::Csv)
        .append(batch(&["a@example.com"]), "opt-outs")
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("Parquet folder, a Delta table or a PostgreSQL table"),
        "{refused}"
    );
}
