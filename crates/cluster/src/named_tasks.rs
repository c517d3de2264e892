//! Ballista's execution engine, with each task's failure naming the executor it failed on: a
//! path one machine cannot read is then found by the message alone.

use std::fmt::{Debug, Display};
use std::sync::Arc;

use ballista_core::JobId;
use ballista_core::serde::protobuf::ShuffleWritePartition;
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::prelude::SessionConfig;
use segsync_engine::FAILED_ON_EXECUTOR;
use tracing::info;

/// Runs tasks as Ballista's default engine does, as the executor reachable at `address`.
pub(crate) struct NamedTasks {
    inner: DefaultExecutionEngine,
    address: Arc<str>,
}

impl NamedTasks {
    pub(crate) fn new(address: String) -> Self {
        Self {
            inner: DefaultExecutionEngine::new(),
            address: address.into(),
        }
    }
}

impl ExecutionEngine for NamedTasks {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        info!(job = %job_id, stage = stage_id, task = task_id, "Running a task.");
        let inner = self
            .inner
            .create_query_stage_exec(
                job_id,
                stage_id,
                task_id,
                global_output_partition_ids,
                plan,
                work_dir,
                config,
            )
            .map_err(|error| on_executor(&self.address, error))?;
        Ok(Arc::new(NamedStage {
            inner,
            address: Arc::clone(&self.address),
        }))
    }
}

#[derive(Debug)]
struct NamedStage {
    inner: Arc<dyn QueryStageExecutor>,
    address: Arc<str>,
}

impl Display for NamedStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Display::fmt(&self.inner, f)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for NamedStage {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> Result<Vec<ShuffleWritePartition>> {
        self.inner
            .execute_query_stage(task_id, context)
            .await
            .map_err(|error| on_executor(&self.address, error))
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        self.inner.collect_plan_metrics()
    }

    fn collect_runtime_stats_reports(
        &self,
    ) -> Vec<ballista_core::serde::protobuf::RuntimeStatsReport> {
        self.inner.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(
        &self,
    ) -> Result<Vec<ballista_core::serde::protobuf::WindowStateReport>> {
        self.inner.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<ballista_core::serde::protobuf::TaskColumnStats> {
        self.inner.collect_column_stats()
    }
}

/// The task's error, with the executor and the whole message as its context. Ballista sends
/// the node the error's debug form, where this context comes first; the error itself stays
/// beneath it, so Ballista still tells a lost shuffle file (rerun on another executor) or an
/// input/output error (tried again) from the rest.
fn on_executor(address: &str, error: DataFusionError) -> DataFusionError {
    DataFusionError::Context(
        format!("{FAILED_ON_EXECUTOR}{address}: {error}"),
        Box::new(error),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_executor_and_keeps_its_kind_beneath() {
        let error = on_executor(
            "10.0.0.7:50051",
            DataFusionError::IoError(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "/data/profiles/part-1.parquet: No such file or directory",
            )),
        );
        assert!(matches!(error.find_root(), DataFusionError::IoError(_)));
        let sent = format!("{error:?}");
        assert!(
            sent.starts_with(
                "Context(\"on the executor at 10.0.0.7:50051: IO error: /data/profiles/part-1.parquet"
            ),
            "{sent}"
        );
    }
}
