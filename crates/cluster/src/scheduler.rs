//! The scheduler: it takes each query's plan from a segsync node, splits it into stages and
//! hands their tasks to the executors. Its state is in memory: a restart loses the queries
//! running, which the runs that sent them retry.
//!
//! It serves Ballista's scheduler service alone, over mutual TLS when it has the cluster's TLS
//! files: Ballista's own server has no TLS, and adds routes segsync does not use.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::error::BallistaError;
use ballista_core::optimizer::with_ballista_optimizer_rules;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_core::utils::default_session_builder;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::create_scheduler;
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use segsync_engine::ClusterIdentity;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tracing::{info, warn};

use crate::source_stores::SourceStores;
use crate::status_service::StatusService;
use crate::{ClusterError, check_listening};

/// Where the scheduler listens, and what it tells executors to call it.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// `127.0.0.1` unless told otherwise.
    pub bind_host: String,
    /// 50050 by default; 0 takes any free port (see [`run_scheduler_on`]).
    pub port: u16,
    /// The host name executors and nodes reach it by, when not the bound address.
    pub external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is taken for dead and its tasks are
    /// run elsewhere.
    pub executor_timeout_seconds: u64,
    /// Seconds a query may wait while no executor is up before it is given up, so that the
    /// node that sent it fails its run (engine unavailable) instead of waiting for ever.
    pub executor_wait_seconds: u64,
    /// Seconds an executor shutting down cleanly is kept before its tasks are given to others:
    /// it takes no new task (it said it is terminating), finishes those it runs, and what they
    /// wrote stays reachable meanwhile.
    pub drain_seconds: u64,
    /// The cluster's TLS files, read: required to listen beyond loopback.
    pub tls: Option<ClusterIdentity>,
    /// How the scheduler reaches object storage, which it lists when it plans a query over
    /// files there (as each executor's `source_options`).
    pub source_options: segsync_engine::SourceOptions,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            bind_host: "127.0.0.1".to_owned(),
            port: 50050,
            external_host: None,
            executor_timeout_seconds: 60,
            executor_wait_seconds: 60,
            drain_seconds: 30,
            tls: None,
            source_options: segsync_engine::SourceOptions::default(),
        }
    }
}

impl SchedulerOptions {
    fn config(&self, port: u16) -> SchedulerConfig {
        let mut config = SchedulerConfig {
            bind_host: self.bind_host.clone(),
            bind_port: port,
            external_host: self
                .external_host
                .clone()
                .unwrap_or_else(|| self.bind_host.clone()),
            // Executors ask for work: an executor that dies holds none.
            scheduling_policy: TaskSchedulingPolicy::PullStaged,
            ..SchedulerConfig::default()
        };
        config.executor_timeout_seconds = self.executor_timeout_seconds;
        config.no_executors_grace_period_seconds = self.executor_wait_seconds;
        config.executor_termination_grace_period = self.drain_seconds;
        config.expire_dead_executor_interval_seconds = self.executor_timeout_seconds.clamp(1, 15);
        config.override_create_grpc_client_endpoint =
            self.tls.as_ref().map(ClusterIdentity::endpoint_override);
        // A node's plans may read Delta tables' files and PostgreSQL tables (see
        // `segsync_engine::ClusterLogicalCodec`).
        config.override_logical_codec = Some(segsync_engine::ClusterLogicalCodec::shared());
        config.override_physical_codec = Some(segsync_engine::ClusterPhysicalCodec::shared(
            segsync_engine::SourceOptions::default(),
        ));
        let stores = Arc::new(SourceStores::new(self.source_options.clone()));
        config.override_session_builder = Some(Arc::new(move |config| {
            planning_as_a_node_does(config, Arc::clone(&stores))
        }));
        config
    }
}

/// The scheduler's sessions plan a node's query again with the rules the node planned it with
/// (`segsync_engine::optimizer_rules`, beside Ballista's own): with DataFusion's defaults,
/// common-subexpression elimination turns the shared `FILTER` of several measures into a
/// projection whose nullability the physical plan disagrees with, and the query fails. They
/// list files in object storage through the scheduler's own storage options.
fn planning_as_a_node_does(
    config: SessionConfig,
    stores: Arc<SourceStores>,
) -> datafusion::common::Result<SessionState> {
    let state = default_session_builder(config)?;
    let runtime = RuntimeEnvBuilder::new()
        .with_object_store_registry(stores)
        .build()?;
    Ok(SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(Arc::new(runtime))
        .with_optimizer_rules(with_ballista_optimizer_rules(
            &segsync_engine::optimizer_rules(),
        ))
        .build())
}

/// Binds the scheduler's port and serves until the process stops.
pub async fn run_scheduler(options: SchedulerOptions) -> Result<(), ClusterError> {
    check_listening("scheduler", &options.bind_host, options.tls.as_ref())?;
    let address = format!("{}:{}", options.bind_host, options.port);
    let listener = TcpListener::bind(&address)
        .await
        .map_err(|source| ClusterError::Listen {
            role: "scheduler",
            address: address.clone(),
            source,
        })?;
    run_scheduler_on(listener, options).await
}

/// Serves the scheduler on a port already bound (tests bind port 0 and read it back).
pub async fn run_scheduler_on(
    listener: TcpListener,
    options: SchedulerOptions,
) -> Result<(), ClusterError> {
    check_listening("scheduler", &options.bind_host, options.tls.as_ref())?;
    let port = listener
        .local_addr()
        .map(|address: SocketAddr| address.port())
        .unwrap_or(options.port);
    let config = Arc::new(options.config(port));
    let ballista = |source| ClusterError::Ballista {
        role: "scheduler",
        source,
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(ballista)?;
    let cluster_state = cluster.cluster_state();
    let scheduler = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config.clone())
        .await
        .map_err(ballista)?;
    let status = StatusService::new(
        scheduler.clone(),
        cluster_state,
        Duration::from_secs(options.executor_timeout_seconds),
    );
    tokio::spawn(give_up_without_executors(
        scheduler.clone(),
        Duration::from_secs(options.executor_wait_seconds),
    ));
    info!(
        address = %listener.local_addr().map_or_else(|_| "?".to_owned(), |a| a.to_string()),
        tls = options.tls.is_some(),
        "The cluster's scheduler is listening."
    );
    serve(listener, scheduler, status, options.tls.as_ref(), &config).await
}

/// Serves Ballista's scheduler service and segsync's status service on `listener`, over mutual
/// TLS with `tls`. (Ballista's
/// own server also gives its handlers the caller's address, which they use only for an
/// executor that names no host of its own; segsync's executors always name theirs.)
async fn serve(
    listener: TcpListener,
    scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
    status: StatusService,
    tls: Option<&ClusterIdentity>,
    config: &SchedulerConfig,
) -> Result<(), ClusterError> {
    let service = SchedulerGrpcServer::new(scheduler)
        .max_encoding_message_size(config.grpc_server_max_encoding_message_size as usize)
        .max_decoding_message_size(config.grpc_server_max_decoding_message_size as usize);
    let mut server = Server::builder().tcp_nodelay(true);
    if let Some(tls) = tls {
        server = server
            .tls_config(tls.server_tls())
            .map_err(|source| ClusterError::Tls {
                role: "scheduler",
                source,
            })?;
    }
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    server
        .add_service(service)
        .add_service(status)
        .serve_with_incoming(incoming)
        .await
        .map_err(|source| ClusterError::Ballista {
            role: "scheduler",
            source: BallistaError::TonicError(source),
        })
}

/// Cancels the queries running while no executor has been up for `wait`. Ballista fails them
/// itself when the last executor is lost, but a query sent while none was up would wait for
/// one for ever.
async fn give_up_without_executors(
    scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
    wait: Duration,
) {
    let mut none_since: Option<Instant> = None;
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    loop {
        ticks.tick().await;
        // With Ballista's default of one, ready means at least one executor is alive.
        if scheduler.is_ready() {
            none_since = None;
            continue;
        }
        let since = *none_since.get_or_insert_with(Instant::now);
        if since.elapsed() < wait {
            continue;
        }
        for job in scheduler.state.task_manager.get_running_job_cache().keys() {
            warn!(
                %job,
                wait_seconds = wait.as_secs(),
                "No executor is up: the query is given up."
            );
            if let Err(error) = scheduler.cancel_job(job.clone()).await {
                warn!(%job, %error, "The query could not be given up.");
            }
        }
    }
}
