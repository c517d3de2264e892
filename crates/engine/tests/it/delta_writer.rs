//! Delta tables written by `deltalake-core`, as the tests need them.

use deltalake_core::DeltaTable;
use deltalake_core::protocol::SaveMode;
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use url::Url;

use crate::fixtures::{self, Row};

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
