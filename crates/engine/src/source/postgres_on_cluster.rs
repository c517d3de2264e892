//! A PostgreSQL source on a cluster: the executors query the database themselves, each task
//! its share of the rows.
//!
//! A node's plan carries the table — the location without its password, the table, `sslmode`,
//! `sslrootcert` and the statement time limit — and the scheduler plans a scan of it with the
//! filters PostgreSQL runs exactly (as on a node, see `postgres_pushdown.rs`). Each executor
//! connects with its own password (`password`, `password_file` or `password_env` in its
//! `--source-options`, or `PGPASSWORD`): no password travels in a plan.
//!
//! With `partition_column` (an integer column, ideally the key), the scan is split into
//! `partitions` tasks (the scheduler's target partitions unless told), each reading the rows
//! whose key falls in its share (`key mod partitions`, and the first takes the nulls);
//! without it, one task reads the table.

use std::fmt;
use std::io::Cursor;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, TableReference, project_schema};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType, col, lit};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan};
use datafusion_proto::bytes::Serializeable;
use futures_util::StreamExt;
use object_store::ObjectStore;
use serde::{Deserialize, Serialize};
use url::Url;

use super::SourceOptions;
use super::object_stores::Failure;
use super::postgres::{Access, connect};
use super::postgres_pushdown::{ExactPushdown, pushdown_in_postgres};
use crate::error::SourcePart;

/// The options a plan carries to the executors: none of them a secret.
const CARRIED_KEYS: &[&str] = &[
    "table",
    "sslmode",
    "sslrootcert",
    "statement_timeout_seconds",
];

/// What a plan carries of a PostgreSQL source.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PlannedTable {
    /// The location, without a password.
    location: Url,
    options: Vec<(String, String)>,
    split: Option<Split>,
}

/// How the rows are shared among tasks.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Split {
    column: String,
    /// None: the scheduler's target partitions.
    partitions: Option<usize>,
}

impl PlannedTable {
    /// The options an executor connects with: the plan's, then its own password (and its own
    /// root certificate, when it names one).
    fn options_on(&self, executor: &SourceOptions) -> SourceOptions {
        let mut options = SourceOptions::default();
        for (key, value) in &self.options {
            options.set(key, value.clone());
        }
        for key in ["password", "sslrootcert"] {
            if let Ok(Some(value)) = executor.get(key) {
                options.set(key, value);
            }
        }
        options
    }
}

/// A PostgreSQL table as a node plans it for a cluster: its schema, and what the executors
/// need to read it.
pub(crate) struct PostgresOnCluster {
    planned: PlannedTable,
    schema: SchemaRef,
}

impl fmt::Debug for PostgresOnCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOnCluster")
            .field("location", &self.planned.location.as_str())
            .finish_non_exhaustive()
    }
}

impl PostgresOnCluster {
    /// The table at `url` with `options`, whose columns are `schema` (as the node read them).
    pub(crate) fn new(
        url: &Url,
        options: &SourceOptions,
        schema: SchemaRef,
    ) -> Result<Self, Failure> {
        let option = |key: &str| {
            options
                .get(key)
                .map_err(|error| (SourcePart::Options, error.to_string()))
        };
        let mut location = url.clone();
        let _ = location.set_password(None);
        let mut carried = Vec::new();
        for key in CARRIED_KEYS {
            if let Some(value) = option(key)? {
                carried.push(((*key).to_owned(), value));
            }
        }
        let split = match option("partition_column")? {
            None => None,
            Some(column) => {
                let field = schema.field_with_name(&column).map_err(|_| {
                    (
                        SourcePart::Options,
                        format!("partition_column: the table has no column {column:?}"),
                    )
                })?;
                if !field.data_type().is_integer() {
                    return Err((
                        SourcePart::Options,
                        format!(
                            "partition_column: {column:?} is {}, not an integer column",
                            field.data_type()
                        ),
                    ));
                }
                let partitions = match option("partitions")? {
                    None => None,
                    Some(text) => Some(
                        text.trim()
                            .parse::<usize>()
                            .ok()
                            .filter(|n| *n > 0)
                            .ok_or_else(|| {
                                (
                                    SourcePart::Options,
                                    format!("partitions {text:?} is not a number of tasks above 0"),
                                )
                            })?,
                    ),
                };
                Some(Split { column, partitions })
            }
        };
        Ok(Self {
            planned: PlannedTable {
                location,
                options: carried,
                split,
            },
            schema,
        })
    }

    pub(crate) fn encode(&self, buf: &mut Vec<u8>) -> Result<()> {
        serde_json::to_writer(buf, &self.planned).map_err(wire_failure)
    }

    pub(crate) fn decode(buf: &[u8], schema: SchemaRef) -> Result<Self> {
        let planned = serde_json::from_slice(buf).map_err(wire_failure)?;
        Ok(Self { planned, schema })
    }
}

fn wire_failure(error: impl fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("a PostgreSQL table in a plan: {error}"))
}

#[async_trait]
impl TableProvider for PostgresOnCluster {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(pushdown_in_postgres(filters))
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let parts = match &self.planned.split {
            None => 1,
            Some(split) => split
                .partitions
                .unwrap_or_else(|| state.config().target_partitions())
                .max(1),
        };
        let shares = PostgresShares::new(
            self.planned.clone(),
            Arc::clone(&self.schema),
            projection.cloned(),
            filters.to_vec(),
            limit,
            parts,
            SourceOptions::default(),
        )?;
        Ok(shares.into_plan())
    }
}

/// The executors' scan of a PostgreSQL table, as a file source whose "files" are the shares of
/// its rows: Ballista gives each task the file groups of its partitions, so share `i` is read
/// once, by the task that runs partition `i`.
#[derive(Clone)]
pub(crate) struct PostgresShares {
    planned: PlannedTable,
    /// The columns the scan reads, before projection.
    columns: SchemaRef,
    projection: Option<Vec<usize>>,
    filters: Vec<Expr>,
    limit: Option<usize>,
    parts: usize,
    /// What the scan yields: the projected columns, as the file source's table.
    output: TableSchema,
    /// The executor's own options (its password), never encoded.
    executor_options: SourceOptions,
    metrics: ExecutionPlanMetricsSet,
}

/// What a plan carries of the scan.
#[derive(Serialize, Deserialize)]
struct PlannedScan {
    table: PlannedTable,
    /// The table's columns, as Arrow IPC.
    columns: Vec<u8>,
    projection: Option<Vec<usize>>,
    /// Each filter, as DataFusion's protobuf.
    filters: Vec<Vec<u8>>,
    limit: Option<usize>,
    parts: usize,
    /// The shares each partition reads (all of them, or a task's).
    groups: Vec<Vec<usize>>,
}

/// The name of share `index` as a file of the scan.
fn share_file(index: usize) -> PartitionedFile {
    PartitionedFile::new(format!("{SHARE_PREFIX}{index}"), 0)
}

const SHARE_PREFIX: &str = "postgres-share/";

impl PostgresShares {
    #[allow(clippy::too_many_arguments)]
    fn new(
        planned: PlannedTable,
        columns: SchemaRef,
        projection: Option<Vec<usize>>,
        filters: Vec<Expr>,
        limit: Option<usize>,
        parts: usize,
        executor_options: SourceOptions,
    ) -> Result<Self> {
        let output = TableSchema::from(project_schema(&columns, projection.as_ref())?);
        Ok(Self {
            planned,
            columns,
            projection,
            filters,
            limit,
            parts,
            output,
            executor_options,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// The scan as a plan: one partition per share.
    fn into_plan(self) -> Arc<dyn ExecutionPlan> {
        let groups = (0..self.parts)
            .map(|index| FileGroup::new(vec![share_file(index)]))
            .collect();
        Self::plan_of(Arc::new(self), groups)
    }

    fn plan_of(source: Arc<Self>, groups: Vec<FileGroup>) -> Arc<dyn ExecutionPlan> {
        let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), source)
            .with_file_groups(groups)
            .build();
        DataSourceExec::from_data_source(config)
    }

    /// The scan in `plan`, when it is one.
    pub(crate) fn in_plan(plan: &Arc<dyn ExecutionPlan>) -> Option<(&Self, &FileScanConfig)> {
        let exec = plan.downcast_ref::<DataSourceExec>()?;
        let config = exec.data_source().downcast_ref::<FileScanConfig>()?;
        let shares = config.file_source().downcast_ref::<Self>()?;
        Some((shares, config))
    }

    pub(crate) fn encode(&self, config: &FileScanConfig, buf: &mut Vec<u8>) -> Result<()> {
        let mut columns = Vec::new();
        StreamWriter::try_new(&mut columns, &self.columns)?.finish()?;
        let filters = self
            .filters
            .iter()
            .map(|filter| filter.to_bytes().map(|bytes| bytes.to_vec()))
            .collect::<Result<Vec<_>>>()?;
        let groups = config
            .file_groups
            .iter()
            .map(|group| group.iter().map(share_index).collect::<Result<Vec<_>>>())
            .collect::<Result<Vec<_>>>()?;
        let planned = PlannedScan {
            table: self.planned.clone(),
            columns,
            projection: self.projection.clone(),
            filters,
            limit: self.limit,
            parts: self.parts,
            groups,
        };
        serde_json::to_writer(buf, &planned).map_err(wire_failure)
    }

    /// The scan a plan carried, read on an executor whose own options are `executor_options`.
    pub(crate) fn decode(
        buf: &[u8],
        ctx: &TaskContext,
        executor_options: &SourceOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let planned: PlannedScan = serde_json::from_slice(buf).map_err(wire_failure)?;
        let columns = StreamReader::try_new(Cursor::new(planned.columns), None)?.schema();
        let filters = planned
            .filters
            .iter()
            .map(|bytes| Expr::from_bytes_with_ctx(bytes, ctx))
            .collect::<Result<Vec<_>>>()?;
        let shares = Self::new(
            planned.table,
            columns,
            planned.projection,
            filters,
            planned.limit,
            planned.parts,
            executor_options.clone(),
        )?;
        let groups = planned
            .groups
            .into_iter()
            .map(|group| FileGroup::new(group.into_iter().map(share_file).collect()))
            .collect();
        Ok(Self::plan_of(Arc::new(shares), groups))
    }

    /// The rows share `index` holds, beyond the scan's filters.
    fn share(&self, index: usize) -> Option<Expr> {
        let split = self.planned.split.as_ref().filter(|_| self.parts > 1)?;
        let parts = i64::try_from(self.parts).unwrap_or(i64::MAX);
        let key = col(format!("\"{}\"", split.column));
        let remainder = ((key.clone() % lit(parts)) + lit(parts)) % lit(parts);
        let mine = remainder.eq(lit(i64::try_from(index).unwrap_or(0)));
        Some(if index == 0 {
            mine.or(key.is_null())
        } else {
            mine
        })
    }
}

fn share_index(file: &PartitionedFile) -> Result<usize> {
    let path = file.object_meta.location.as_ref();
    path.strip_prefix(SHARE_PREFIX)
        .and_then(|index| index.parse().ok())
        .ok_or_else(|| DataFusionError::Internal(format!("{path} is not a share of a table")))
}

impl FileSource for PostgresShares {
    fn create_file_opener(
        &self,
        _object_store: Arc<dyn ObjectStore>,
        _base_config: &FileScanConfig,
        _partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        Ok(Arc::new(ShareOpener {
            shares: Arc::new(self.clone()),
        }))
    }

    fn table_schema(&self) -> &TableSchema {
        &self.output
    }

    fn with_batch_size(&self, _batch_size: usize) -> Arc<dyn FileSource> {
        Arc::new(self.clone())
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "postgres"
    }

    /// The filters are logical expressions, run in PostgreSQL: none is physical.
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn fmt_extra(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let table = self
            .planned
            .options
            .iter()
            .find(|(key, _)| key == "table")
            .map_or("?", |(_, table)| table.as_str());
        write!(f, ", table={table}, shares={}", self.parts)?;
        if !self.filters.is_empty() {
            let filters: Vec<String> = self.filters.iter().map(ToString::to_string).collect();
            write!(f, ", filters=[{}]", filters.join(", "))?;
        }
        Ok(())
    }

    /// A share is read whole, by one query.
    fn supports_repartitioning(&self) -> bool {
        false
    }
}

/// Opens a share: one query on the executor's own connection.
struct ShareOpener {
    shares: Arc<PostgresShares>,
}

impl FileOpener for ShareOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let index = share_index(&file)?;
        let shares = Arc::clone(&self.shares);
        Ok(Box::pin(async move {
            let options = shares.planned.options_on(&shares.executor_options);
            let (factory, table) = connect(&shares.planned.location, &options, Access::ReadOnly)
                .await
                .map_err(|(part, problem)| {
                    DataFusionError::Execution(format!("PostgreSQL ({part}): {problem}"))
                })?;
            let provider = factory
                .table_provider(TableReference::from(table.as_str()))
                .await
                .map_err(|error| DataFusionError::Execution(format!("table {table}: {error}")))?;
            let mut filters = shares.filters.clone();
            filters.extend(shares.share(index));
            // The provider's scan reads no setting of the session.
            let state = SessionStateBuilder::new().build();
            let scan = ExactPushdown::new(provider)
                .scan(&state, shares.projection.as_ref(), &filters, shares.limit)
                .await?;
            let rows = scan.execute(0, Arc::new(TaskContext::default()))?;
            Ok(rows.boxed())
        }))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]))
    }

    #[test]
    fn no_password_travels_in_a_plan() {
        let url = Url::parse("postgres://ada:hunter2@db.example.com/crm").unwrap();
        let options = SourceOptions::default()
            .with("table", "crm.profiles")
            .with("password", "s3cret")
            .with("partition_column", "id");
        let table = PostgresOnCluster::new(&url, &options, schema()).unwrap();
        let mut buf = Vec::new();
        table.encode(&mut buf).unwrap();
        let carried = String::from_utf8(buf).unwrap();
        assert!(
            !carried.contains("hunter2") && !carried.contains("s3cret"),
            "{carried}"
        );
        assert!(carried.contains("crm.profiles"), "{carried}");
    }

    #[test]
    fn only_an_integer_column_splits_a_table() {
        let url = Url::parse("postgres://ada@db.example.com/crm").unwrap();
        let by_name = SourceOptions::default()
            .with("table", "crm.profiles")
            .with("partition_column", "name");
        let error = PostgresOnCluster::new(&url, &by_name, schema()).unwrap_err();
        assert!(error.1.contains("not an integer column"), "{error:?}");
    }

    #[tokio::test]
    async fn every_row_falls_in_exactly_one_share() {
        use datafusion::arrow::array::{Int64Array, StringArray};
        use datafusion::arrow::record_batch::RecordBatch;
        use datafusion::prelude::SessionContext;

        let url = Url::parse("postgres://ada@db.example.com/crm").unwrap();
        let options = SourceOptions::default()
            .with("table", "crm.profiles")
            .with("partition_column", "id");
        let table = PostgresOnCluster::new(&url, &options, schema()).unwrap();
        let parts = 3;
        let scan = PostgresShares::new(
            table.planned,
            schema(),
            None,
            Vec::new(),
            None,
            parts,
            SourceOptions::default(),
        )
        .unwrap();
        let nullable = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        let ids: Vec<Option<i64>> = (-7..=7).map(Some).chain([None, Some(i64::MAX)]).collect();
        let names = StringArray::from(vec![Some("x"); ids.len()]);
        let batch = RecordBatch::try_new(
            nullable,
            vec![Arc::new(Int64Array::from(ids.clone())), Arc::new(names)],
        )
        .unwrap();
        let ctx = SessionContext::new();
        let rows = ctx.read_batch(batch).unwrap();
        let mut counted = 0;
        for part in 0..parts {
            counted += rows
                .clone()
                .filter(scan.share(part).unwrap())
                .unwrap()
                .count()
                .await
                .unwrap();
        }
        assert_eq!(
            counted,
            ids.len(),
            "every row once, nulls and negative keys included"
        );
    }
}
