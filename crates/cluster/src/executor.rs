//! An executor: it runs the tasks the scheduler hands it, reading the profiles itself (so it
//! needs the same paths or object-store credentials as the segsync nodes), and serves what
//! its jobs produced — nothing else — to the next stage or to the node that asked. With the
//! cluster's TLS files it serves over mutual TLS, and dials the scheduler and the other
//! executors with its certificate.

use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_core::utils::default_config_producer;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use segsync_engine::ClusterIdentity;

use crate::named_tasks::NamedTasks;
use crate::{ClusterError, check_listening};

/// Where an executor listens, which scheduler it works for, and what it may use.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// `127.0.0.1` unless told otherwise.
    pub bind_host: String,
    /// The host name the scheduler and the other executors reach it by.
    pub external_host: Option<String>,
    /// The Arrow Flight port, where results are fetched (50051 by default).
    pub flight_port: u16,
    /// The gRPC port reported to the scheduler (50052 by default); with pull scheduling
    /// nothing listens on it.
    pub grpc_port: u16,
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Tasks run at once; the machine's cores by default.
    pub concurrency: usize,
    /// The memory all its tasks may hold, shared fairly; past it they spill. None: a share of
    /// the machine's memory, as Ballista decides.
    pub memory_limit: Option<u64>,
    /// Where shuffle files are written; a temporary folder when absent.
    pub work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler.
    pub heartbeat_seconds: u64,
    /// The cluster's TLS files, read: required to listen beyond loopback.
    pub tls: Option<ClusterIdentity>,
    /// How this executor reaches object storage (`endpoint`, `region`, credentials — any
    /// storage option of a profile source, from a file, `_file` or `_env`): the buckets a
    /// node's plans read are opened with these and the platform's credential chain, so no
    /// credential travels in a plan.
    pub source_options: segsync_engine::SourceOptions,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        Self {
            bind_host: "127.0.0.1".to_owned(),
            external_host: None,
            flight_port: 50051,
            grpc_port: 50052,
            scheduler_host: "127.0.0.1".to_owned(),
            scheduler_port: 50050,
            concurrency: std::thread::available_parallelism().map_or(1, usize::from),
            memory_limit: None,
            work_dir: None,
            heartbeat_seconds: 10,
            tls: None,
            source_options: segsync_engine::SourceOptions::default(),
        }
    }
}

/// Serves as an executor until the process stops (or the scheduler cannot be reached at
/// start).
pub async fn run_executor(options: ExecutorOptions) -> Result<(), ClusterError> {
    check_listening("executor", &options.bind_host, options.tls.as_ref())?;
    let external_host = options
        .external_host
        .clone()
        .unwrap_or_else(|| options.bind_host.clone());
    let reached_at = format!("{external_host}:{}", options.flight_port);
    let defaults = ExecutorProcessConfig::default();
    let flight = crate::checked_flight::provider(
        defaults.grpc_max_encoding_message_size as usize,
        defaults.grpc_max_decoding_message_size as usize,
        options.tls.as_ref().map(ClusterIdentity::server_tls),
    );
    // The scheduler and the executors whose results a task reads are dialled with this
    // executor's certificate; a task's own settings say TLS too, since its node used it.
    let dial = options.tls.as_ref().map(ClusterIdentity::endpoint_override);
    let task_settings = dial.clone().map(|dial| {
        Arc::new(move || {
            default_config_producer()
                .with_ballista_use_tls(true)
                .with_ballista_override_create_grpc_client_endpoint(dial.clone())
        }) as ballista_core::ConfigProducer
    });
    let config = ExecutorProcessConfig {
        bind_host: options.bind_host.clone(),
        external_host: Some(external_host),
        port: options.flight_port,
        grpc_port: options.grpc_port,
        scheduler_host: options.scheduler_host.clone(),
        scheduler_port: options.scheduler_port,
        scheduler_connect_timeout_seconds: 10,
        vcores: options.concurrency.max(1),
        // As the scheduler: executors ask for work (see `scheduler.rs`).
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: options
            .work_dir
            .as_ref()
            .map(|folder| folder.to_string_lossy().into_owned()),
        memory_pool_size: options.memory_limit,
        executor_heartbeat_interval_seconds: options.heartbeat_seconds.max(1),
        print_thread_info: false,
        override_execution_engine: Some(Arc::new(NamedTasks::new(reached_at))),
        // Only what this executor's own jobs wrote is served (see `checked_flight.rs`).
        override_arrow_flight_service: Some(flight),
        override_create_grpc_client_endpoint: dial,
        override_config_producer: task_settings,
        // The plans' Delta files and PostgreSQL scans; the executor connects to PostgreSQL
        // with its own source options.
        override_logical_codec: Some(segsync_engine::ClusterLogicalCodec::shared()),
        override_physical_codec: Some(segsync_engine::ClusterPhysicalCodec::shared(
            options.source_options.clone(),
        )),
        override_runtime_producer: Some(runtime_with_source_stores(
            options.work_dir.clone(),
            options.source_options.clone(),
        )),
        ..defaults
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|source| ClusterError::Ballista {
            role: "executor",
            source,
        })
}

/// Each task's runtime: spill files in the work folder, and the object stores built from the
/// executor's own storage options (see `source_stores.rs`); Ballista adds the memory pool.
fn runtime_with_source_stores(
    work_dir: Option<PathBuf>,
    options: segsync_engine::SourceOptions,
) -> ballista_core::RuntimeProducer {
    let stores = Arc::new(crate::source_stores::SourceStores::new(options));
    Arc::new(move |_| {
        let mut builder = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .with_object_store_registry(stores.clone());
        if let Some(folder) = &work_dir {
            builder = builder.with_temp_file_path(folder);
        }
        Ok(Arc::new(builder.build()?))
    })
}
