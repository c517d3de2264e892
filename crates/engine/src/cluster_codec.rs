//! The plan codecs of segsync's cluster: Ballista's, and ours for the sources Ballista cannot
//! carry — a Delta table's files (`DeltaFiles`) and a PostgreSQL table (`PostgresOnCluster` in
//! logical plans, a scan of `PostgresShares` in physical ones). Nodes, the scheduler and every executor
//! use the same codecs.
//!
//! What we encode starts with a tag that opens with a zero byte, which no protobuf message
//! Ballista writes can start with (field number 0 does not exist), so anything else is
//! Ballista's.
//!
//! segsync's own functions travel by name, as DataFusion's do: both codecs give a name they
//! know back as the function.

use std::fmt;
use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::equals_ignoring_case::{self, EQUALS_IGNORING_CASE};
use crate::source::{DeltaFiles, PostgresOnCluster, PostgresShares, SourceOptions};

const DELTA_FILES: &[u8] = b"\0segsync:delta-files\0";
const POSTGRES_TABLE: &[u8] = b"\0segsync:postgres-table\0";
const POSTGRES_SCAN: &[u8] = b"\0segsync:postgres-scan\0";

/// The logical codec: what a node sends the scheduler.
#[derive(Debug, Default)]
pub struct ClusterLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl ClusterLogicalCodec {
    pub fn shared() -> Arc<dyn LogicalExtensionCodec> {
        Arc::new(Self::default())
    }
}

impl LogicalExtensionCodec for ClusterLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        if let Some(planned) = buf.strip_prefix(DELTA_FILES) {
            return Ok(Arc::new(DeltaFiles::decode(planned, schema)?));
        }
        if let Some(planned) = buf.strip_prefix(POSTGRES_TABLE) {
            return Ok(Arc::new(PostgresOnCluster::decode(planned, schema)?));
        }
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(files) = node.downcast_ref::<DeltaFiles>() {
            buf.extend_from_slice(DELTA_FILES);
            return files.encode(buf);
        }
        if let Some(table) = node.downcast_ref::<PostgresOnCluster>() {
            buf.extend_from_slice(POSTGRES_TABLE);
            return table.encode(buf);
        }
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        if name == EQUALS_IGNORING_CASE {
            return Ok(equals_ignoring_case::the_function());
        }
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }
}

/// The physical codec: what the scheduler sends the executors. An executor's carries its own
/// source options, with which it connects to the PostgreSQL tables its tasks read.
#[derive(Default)]
pub struct ClusterPhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
    source_options: SourceOptions,
}

impl fmt::Debug for ClusterPhysicalCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterPhysicalCodec")
            .finish_non_exhaustive()
    }
}

impl ClusterPhysicalCodec {
    /// The codec of a process whose own source options are `source_options`.
    pub fn shared(source_options: SourceOptions) -> Arc<dyn PhysicalExtensionCodec> {
        Arc::new(Self {
            ballista: BallistaPhysicalExtensionCodec::default(),
            source_options,
        })
    }
}

impl PhysicalExtensionCodec for ClusterPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(planned) = buf.strip_prefix(POSTGRES_SCAN) {
            return PostgresShares::decode(planned, ctx, &self.source_options);
        }
        self.ballista.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some((shares, config)) = PostgresShares::in_plan(&node) {
            buf.extend_from_slice(POSTGRES_SCAN);
            return shares.encode(config, buf);
        }
        self.ballista.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        if name == EQUALS_IGNORING_CASE {
            return Ok(equals_ignoring_case::the_function());
        }
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }
}
