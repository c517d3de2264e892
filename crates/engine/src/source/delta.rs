//! Delta Lake tables, on the local disk or in an object store, read through `deltalake-core`'s
//! DataFusion provider: the latest version unless the source names one.

use std::sync::{Arc, Once};

use datafusion::prelude::{DataFrame, SessionContext};
use deltalake_core::logstore::{
    LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig, default_logstore, logstore_factories,
};
use deltalake_core::{DeltaResult, DeltaTableBuilder, DeltaTableError};
use url::Url;

use super::Reader;
use super::delta_files::DeltaFiles;
use super::object_stores::{Failure, StoreLocation, store_failure};
use crate::error::SourcePart;

/// A Delta table as read: its rows and the version they are from.
pub(crate) struct DeltaRead {
    pub(crate) frame: DataFrame,
    pub(crate) version: u64,
}

/// Opens the table at `table_url` (a `file://` URL for a local table), through `store` when it
/// lives in an object store. For a cluster, the version's files are read as Parquet (see
/// `delta_files.rs`).
pub(crate) async fn read_delta(
    ctx: &SessionContext,
    table_url: Url,
    store: Option<&StoreLocation>,
    version: Option<u64>,
    reader: Reader,
) -> Result<DeltaRead, Failure> {
    register_cloud_log_stores();
    let mut builder =
        DeltaTableBuilder::from_url(table_url.clone()).map_err(|error| delta_failure(&error))?;
    if let Some(location) = store {
        builder = builder.with_storage_backend(Arc::clone(&location.store), table_url);
    }
    if let Some(version) = version {
        builder = builder.with_version(version);
    }
    let table = builder
        .load()
        .await
        .map_err(|error| match (&error, version) {
            (DeltaTableError::InvalidVersion(_), Some(version)) => no_such_version(version),
            (DeltaTableError::KernelError(kernel), Some(version))
                if kernel.to_string().contains("version") =>
            {
                no_such_version(version)
            }
            _ => delta_failure(&error),
        })?;
    let version = table.version().ok_or_else(|| {
        (
            SourcePart::Format,
            "the Delta table has no committed version".to_owned(),
        )
    })?;
    if reader == Reader::Cluster {
        let files = DeltaFiles::of(&table)?;
        let frame = ctx
            .read_table(Arc::new(files))
            .map_err(|error| (SourcePart::Format, error.to_string()))?;
        return Ok(DeltaRead { frame, version });
    }
    table
        .update_datafusion_session(&ctx.state())
        .map_err(|error| delta_failure(&error))?;
    let provider = table
        .table_provider()
        .await
        .map_err(|error| (SourcePart::Format, error.to_string()))?;
    let frame = ctx
        .read_table(provider)
        .map_err(|error| (SourcePart::Format, error.to_string()))?;
    Ok(DeltaRead { frame, version })
}

/// The latest committed version of the table at `table_url`, read from its log alone (no
/// state, no files): what change detection compares.
pub(crate) async fn latest_version(
    table_url: Url,
    store: Option<&StoreLocation>,
) -> Result<u64, Failure> {
    register_cloud_log_stores();
    let mut builder =
        DeltaTableBuilder::from_url(table_url.clone()).map_err(|error| delta_failure(&error))?;
    if let Some(location) = store {
        builder = builder.with_storage_backend(Arc::clone(&location.store), table_url);
    }
    let table = builder.build().map_err(|error| delta_failure(&error))?;
    table
        .get_latest_version()
        .await
        .map_err(|error| delta_failure(&error))
}

fn no_such_version(version: u64) -> Failure {
    (
        SourcePart::Options,
        format!("the table has no version {version}"),
    )
}

fn delta_failure(error: &DeltaTableError) -> Failure {
    match error {
        DeltaTableError::ObjectStore { source } => store_failure(source),
        DeltaTableError::NotATable(_) => (
            SourcePart::Format,
            "no Delta table here (no _delta_log folder)".to_owned(),
        ),
        DeltaTableError::InvalidTableLocation(_) => (SourcePart::Path, error.to_string()),
        _ => (SourcePart::Format, error.to_string()),
    }
}

/// Reading needs no more of a log store than Delta's default: no commit coordination, which
/// only writers need. Registered for the object stores segsync builds itself.
struct ReadOnlyLogStores;

impl LogStoreFactory for ReadOnlyLogStores {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

fn register_cloud_log_stores() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        let factories = logstore_factories();
        for scheme in ["s3", "s3a", "gs", "az", "adl", "azure", "abfs", "abfss"] {
            let url = Url::parse(&format!("{scheme}://")).expect("a scheme is a URL");
            if !factories.contains_key(&url) {
                factories.insert(url, Arc::new(ReadOnlyLogStores));
            }
        }
    });
}
