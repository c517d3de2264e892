//! A Delta table on a cluster: the data files of the version the node planned, read as Parquet.
//!
//! A node reads the table's log (the version it was asked for, or the latest) and sends the
//! scheduler that version's files — paths, sizes and partition values — in the query's plan;
//! the scheduler plans an ordinary Parquet scan of them, which every executor reads with its
//! own object stores. No executor reads the log, so every task reads the version the node
//! planned, however the table moves on meanwhile.
//!
//! Tables whose files cannot be read as plain Parquet are refused on a cluster with the reason:
//! deletion vectors (rows deleted without rewriting their file) and column mapping (columns
//! named differently in the files).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, ScalarValue, project_schema};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use deltalake_core::DeltaTable;
use serde::{Deserialize, Serialize};
use url::Url;

use super::object_stores::Failure;
use crate::error::SourcePart;

/// What a plan carries of a Delta table: where it is, which version, and that version's files.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PlannedVersion {
    /// The table's folder, ending in `/`.
    table: Url,
    version: u64,
    partition_columns: Vec<String>,
    files: Vec<DataFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DataFile {
    /// The file's path inside its object store, not encoded.
    path: String,
    size: u64,
    /// One per partition column, as Delta writes them (text; none for a null).
    partition_values: Vec<Option<String>>,
}

/// The files of one version of a Delta table, as a table DataFusion scans as Parquet.
pub(crate) struct DeltaFiles {
    planned: PlannedVersion,
    /// The data files' columns, then the partition columns.
    schema: SchemaRef,
}

impl fmt::Debug for DeltaFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeltaFiles")
            .field("table", &self.planned.table.as_str())
            .field("version", &self.planned.version)
            .field("files", &self.planned.files.len())
            .finish()
    }
}

impl DeltaFiles {
    /// The files of the version `table` was loaded at.
    pub(crate) fn of(table: &DeltaTable) -> Result<Self, Failure> {
        let state = table
            .snapshot()
            .map_err(|error| (SourcePart::Format, error.to_string()))?;
        let metadata = state.metadata();
        if let Some(mode) = metadata
            .configuration()
            .get("delta.columnMapping.mode")
            .filter(|mode| !mode.eq_ignore_ascii_case("none"))
        {
            return Err(not_on_a_cluster(&format!(
                "its columns are mapped (delta.columnMapping.mode = {mode})"
            )));
        }
        let partition_columns = metadata.partition_columns().to_vec();
        let mut table_url = table.table_url().clone();
        if !table_url.path().ends_with('/') {
            table_url.set_path(&format!("{}/", table_url.path()));
        }
        let folder = decoded(table_url.path());
        let mut files = Vec::new();
        for file in state.log_data() {
            if file.deletion_vector_descriptor().is_some() {
                return Err(not_on_a_cluster(&format!(
                    "rows of {} are deleted by a deletion vector",
                    file.path()
                )));
            }
            let values = file.partition_values_map();
            files.push(DataFile {
                path: object_path(&table_url, &folder, &file.path())?,
                size: u64::try_from(file.size()).unwrap_or(0),
                partition_values: partition_columns
                    .iter()
                    .map(|column| values.get(column).cloned().flatten())
                    .collect(),
            });
        }
        let table_schema = state.snapshot().arrow_schema();
        let (partition_fields, file_fields): (Vec<FieldRef>, Vec<FieldRef>) = table_schema
            .fields()
            .iter()
            .cloned()
            .partition(|field| partition_columns.contains(field.name()));
        let mut fields = file_fields;
        for column in &partition_columns {
            if let Some(field) = partition_fields.iter().find(|f| f.name() == column) {
                fields.push(Arc::clone(field));
            }
        }
        let version = state.version();
        Ok(Self {
            planned: PlannedVersion {
                table: table_url,
                version,
                partition_columns,
                files,
            },
            schema: Arc::new(Schema::new(fields)),
        })
    }

    /// The version's files as a plan carries them.
    pub(crate) fn encode(&self, buf: &mut Vec<u8>) -> Result<()> {
        serde_json::to_writer(buf, &self.planned)
            .map_err(|error| DataFusionError::Internal(format!("a Delta table's files: {error}")))
    }

    /// The table a plan carried, with the schema the plan gives it.
    pub(crate) fn decode(buf: &[u8], schema: SchemaRef) -> Result<Self> {
        let planned: PlannedVersion = serde_json::from_slice(buf).map_err(|error| {
            DataFusionError::Internal(format!("a Delta table's files: {error}"))
        })?;
        Ok(Self { planned, schema })
    }

    fn partition_count(&self) -> usize {
        self.planned.partition_columns.len()
    }
}

fn not_on_a_cluster(reason: &str) -> Failure {
    (
        SourcePart::Format,
        format!("this Delta table cannot be read on a cluster yet: {reason}"),
    )
}

fn decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The path inside the table's object store of a file the log names, relative to the table's
/// folder or (a shallow clone's) as a URL in the same store.
fn object_path(table: &Url, folder: &str, file: &str) -> Result<String, Failure> {
    let absolute = match Url::parse(file) {
        Ok(url) if url.scheme() == table.scheme() && url.host_str() == table.host_str() => {
            decoded(url.path())
        }
        Ok(url) if url.scheme().len() > 1 => {
            return Err(not_on_a_cluster(&format!(
                "its file {url} is outside the table's store"
            )));
        }
        _ => format!("{folder}{}", file.trim_start_matches('/')),
    };
    Ok(absolute.trim_start_matches('/').to_owned())
}

/// Files shared among `groups` tasks, the largest first into the lightest group.
fn file_groups(files: Vec<PartitionedFile>, groups: usize) -> Vec<FileGroup> {
    let mut files = files;
    files.sort_by_key(|file| std::cmp::Reverse(file.object_meta.size));
    let mut groups: Vec<(u64, Vec<PartitionedFile>)> = (0..groups.clamp(1, files.len().max(1)))
        .map(|_| (0, Vec::new()))
        .collect();
    for file in files {
        let lightest = groups
            .iter_mut()
            .min_by_key(|(bytes, _)| *bytes)
            .expect("at least one group");
        lightest.0 += file.object_meta.size;
        lightest.1.push(file);
    }
    groups
        .into_iter()
        .filter(|(_, files)| !files.is_empty())
        .map(|(_, files)| FileGroup::new(files))
        .collect()
}

#[async_trait]
impl TableProvider for DeltaFiles {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.planned.files.is_empty() {
            let projected = project_schema(&self.schema, projection)?;
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        let file_columns = self.schema.fields().len() - self.partition_count();
        let file_schema = Arc::new(Schema::new(self.schema.fields()[..file_columns].to_vec()));
        let partition_fields: Vec<FieldRef> = self.schema.fields()[file_columns..].to_vec();
        let mut files = Vec::with_capacity(self.planned.files.len());
        for file in &self.planned.files {
            let values = partition_fields
                .iter()
                .zip(&file.partition_values)
                .map(|(field, value)| match value {
                    Some(text) => ScalarValue::try_from_string(text.clone(), field.data_type()),
                    None => ScalarValue::try_from(field.data_type()),
                })
                .collect::<Result<Vec<_>>>()?;
            files.push(
                PartitionedFile::new(file.path.clone(), file.size).with_partition_values(values),
            );
        }
        let table = &self.planned.table;
        let store = ObjectStoreUrl::parse(format!(
            "{}://{}",
            table.scheme(),
            &table[url::Position::BeforeHost..url::Position::AfterPort]
        ))?;
        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let source = format.file_source(
            TableSchema::builder(file_schema)
                .with_table_partition_cols(partition_fields)
                .build(),
        );
        let config = FileScanConfigBuilder::new(store, source)
            .with_file_groups(file_groups(files, state.config().target_partitions()))
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_inside_their_store() {
        let local = Url::parse("file:///data/crm/profiles/").unwrap();
        let folder = decoded(local.path());
        assert_eq!(
            object_path(&local, &folder, "country=FR/part-0.parquet").unwrap(),
            "data/crm/profiles/country=FR/part-0.parquet"
        );
        let bucket = Url::parse("s3://lake/crm%20data/profiles/").unwrap();
        let folder = decoded(bucket.path());
        assert_eq!(
            object_path(&bucket, &folder, "part-0.parquet").unwrap(),
            "crm data/profiles/part-0.parquet"
        );
        assert_eq!(
            object_path(&bucket, &folder, "s3://lake/elsewhere/part-1.parquet").unwrap(),
            "elsewhere/part-1.parquet"
        );
        let outside = object_path(&bucket, &folder, "s3://other/part-1.parquet").unwrap_err();
        assert!(
            outside.1.contains("outside the table's store"),
            "{outside:?}"
        );
    }

    #[test]
    fn files_are_shared_evenly_among_the_tasks() {
        let files = [90, 10, 50, 40, 30, 30]
            .iter()
            .enumerate()
            .map(|(index, size)| PartitionedFile::new(format!("f{index}"), *size))
            .collect();
        let groups = file_groups(files, 3);
        let bytes: Vec<u64> = groups
            .iter()
            .map(|group| group.iter().map(|file| file.object_meta.size).sum())
            .collect();
        assert_eq!(bytes, vec![90, 80, 80]);
        assert_eq!(
            file_groups(vec![PartitionedFile::new("one", 5)], 8).len(),
            1
        );
    }
}
