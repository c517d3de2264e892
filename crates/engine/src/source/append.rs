//! Appending rows to a location written like a profile source's — a Parquet folder (on this
//! machine or in object storage), a Delta table, or a PostgreSQL table — so that what segsync
//! learns (the opt-outs Constant Contact reports) reaches the customer data it came from, and
//! the segments upstream can read it.
//!
//! A Parquet folder gets one new file per append; a Delta table one commit (created by the first
//! append); a PostgreSQL table, which must exist with the columns written, an `INSERT`.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use deltalake_core::protocol::SaveMode;
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ArrowWriter;
use url::Url;

use super::object_stores::{self, StoreLocation, store_failure};
use super::{Place, ProfileFormat, ProfileSource, STORAGE_NEUTRAL_KEYS, postgres};
use crate::error::{EngineError, SourcePart};

impl ProfileSource {
    /// Appends `batch` to the location; `name` starts the name of a new Parquet file.
    pub async fn append(&self, batch: RecordBatch, name: &str) -> Result<(), EngineError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let configured = self.configured_format()?;
        if let Some(format) = configured
            && !matches!(
                format,
                ProfileFormat::Parquet | ProfileFormat::Delta | ProfileFormat::Postgres
            )
        {
            return Err(self.problem(
                SourcePart::Format,
                format!("rows are written to a Parquet folder, a Delta table or a PostgreSQL table, not {format}"),
            ));
        }
        match self.place()? {
            Place::Postgres(url) => self.append_to_postgres(&url, batch).await,
            Place::Local => {
                let folder = self.local_path();
                std::fs::create_dir_all(&folder).map_err(|error| {
                    self.problem(SourcePart::Path, format!("creating the folder: {error}"))
                })?;
                let is_delta = configured == Some(ProfileFormat::Delta)
                    || (configured.is_none() && folder.join("_delta_log").is_dir());
                let absolute = std::path::absolute(&folder)
                    .map_err(|error| self.problem(SourcePart::Path, error.to_string()))?;
                if is_delta {
                    let url = Url::from_directory_path(&absolute)
                        .map_err(|()| self.problem(SourcePart::Path, "not a folder".to_owned()))?;
                    let table = DeltaTable::try_from_url(url)
                        .await
                        .map_err(|error| self.delta_problem(&error))?;
                    return self.append_to_delta(table, batch).await;
                }
                let store = object_store::local::LocalFileSystem::new_with_prefix(&absolute)
                    .map_err(|error| self.failed(store_failure(&error)))?;
                self.write_parquet_file(&store, &StorePath::default(), name, &batch)
                    .await
            }
            Place::Store(url) => {
                let keys = configured.map_or(STORAGE_NEUTRAL_KEYS, ProfileFormat::own_keys);
                let location = object_stores::store_for(&url, &self.options, keys)
                    .map_err(|failure| self.failed(failure))?;
                let listing = object_stores::look_at(&location).await;
                let is_delta = configured == Some(ProfileFormat::Delta)
                    || (configured.is_none()
                        && listing.as_ref().is_ok_and(|listing| listing.delta_log));
                if is_delta {
                    return self.append_to_delta_in_store(&url, &location, batch).await;
                }
                self.write_parquet_file(&*location.store, &location.path, name, &batch)
                    .await
            }
        }
    }

    async fn write_parquet_file(
        &self,
        store: &dyn ObjectStore,
        folder: &StorePath,
        name: &str,
        batch: &RecordBatch,
    ) -> Result<(), EngineError> {
        let mut bytes = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), None)
            .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?;
        writer
            .write(batch)
            .and_then(|()| writer.close().map(drop))
            .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let file = folder
            .clone()
            .join(format!("{name}-{stamp}-{}.parquet", std::process::id()));
        store
            .put(&file, bytes.into())
            .await
            .map_err(|error| self.failed(store_failure(&error)))?;
        Ok(())
    }

    async fn append_to_delta_in_store(
        &self,
        url: &Url,
        location: &StoreLocation,
        batch: RecordBatch,
    ) -> Result<(), EngineError> {
        let mut table_url = url.clone();
        if !table_url.path().ends_with('/') {
            table_url.set_path(&format!("{}/", table_url.path()));
        }
        let mut table = DeltaTableBuilder::from_url(table_url.clone())
            .map_err(|error| self.delta_problem(&error))?
            .with_storage_backend(Arc::clone(&location.store), table_url)
            .build()
            .map_err(|error| self.delta_problem(&error))?;
        match table.load().await {
            Ok(()) | Err(DeltaTableError::NotATable(_)) => {}
            Err(error) => return Err(self.delta_problem(&error)),
        }
        self.append_to_delta(table, batch).await
    }

    async fn append_to_delta(
        &self,
        table: DeltaTable,
        batch: RecordBatch,
    ) -> Result<(), EngineError> {
        table
            .write(vec![batch])
            .with_save_mode(SaveMode::Append)
            .await
            .map_err(|error| self.delta_problem(&error))?;
        Ok(())
    }

    async fn append_to_postgres(&self, url: &Url, batch: RecordBatch) -> Result<(), EngineError> {
        let table = postgres::writable_table(url, &self.options)
            .await
            .map_err(|failure| self.failed(failure))?;
        let ctx = SessionContext::new();
        ctx.register_table("write_back", table)
            .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?;
        ctx.read_batch(batch)
            .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?
            .write_table("write_back", Default::default())
            .await
            .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?;
        Ok(())
    }

    fn delta_problem(&self, error: &DeltaTableError) -> EngineError {
        self.problem(SourcePart::Format, error.to_string())
    }
}
