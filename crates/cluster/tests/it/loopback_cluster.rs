//! A Ballista cluster on loopback for the tests: a scheduler on a port of its own and
//! executors, each on ports of their own, started in this process; plain, or over mutual TLS
//! with certificates of an authority made for the test.

use std::path::Path;
use std::time::Duration;

use segsync_cluster::certificates::{AUTHORITY_CERTIFICATE, write_peer};
use segsync_cluster::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler_on};
use segsync_engine::{
    ClusterIdentity, ClusterTls, EngineSettings, ProfileSource, Profiles, SourceOptions,
};
use tokio::task::JoinHandle;

pub struct LoopbackCluster {
    /// `df://127.0.0.1:PORT`, as `[engine] cluster` takes it.
    pub url: String,
    /// The scheduler's port.
    pub port: u16,
    /// The Arrow Flight port of each executor.
    pub flight_ports: Vec<u16>,
    /// A node's TLS files, when the cluster serves over TLS.
    pub node_tls: Option<ClusterTls>,
    tasks: Vec<JoinHandle<()>>,
}

/// The TLS files of a peer named `name`, reached on loopback, signed by the authority in
/// `folder` (made there first when it has none).
pub fn peer_tls(folder: &Path, name: &str) -> ClusterTls {
    let hosts = ["127.0.0.1".to_owned(), "localhost".to_owned()];
    let written = write_peer(folder, name, &hosts, 1).unwrap();
    ClusterTls {
        ca: folder.join(AUTHORITY_CERTIFICATE),
        certificate: written.certificate,
        key: written.key,
    }
}

impl Drop for LoopbackCluster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl LoopbackCluster {
    /// A scheduler and `executors` executors of two task slots each, ready for queries.
    pub async fn start(executors: usize) -> Self {
        Self::start_with(executors, None, SourceOptions::default()).await
    }

    /// As [`Self::start`], the executors opening object storage with `source_options`.
    pub async fn start_reading(executors: usize, source_options: SourceOptions) -> Self {
        Self::start_with(executors, None, source_options).await
    }

    /// As [`Self::start`], every peer with a certificate of an authority made in `folder`.
    pub async fn start_tls(executors: usize, folder: &Path) -> Self {
        Self::start_with(executors, Some(folder), SourceOptions::default()).await
    }

    async fn start_with(
        executors: usize,
        tls_folder: Option<&Path>,
        source_options: SourceOptions,
    ) -> Self {
        let identity = |name: &str| -> Option<ClusterIdentity> {
            tls_folder.map(|folder| peer_tls(folder, name).load().unwrap())
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let options = SchedulerOptions {
            port,
            executor_timeout_seconds: 10,
            tls: identity("scheduler"),
            source_options: source_options.clone(),
            ..SchedulerOptions::default()
        };
        let mut tasks = vec![tokio::spawn(async move {
            if let Err(error) = run_scheduler_on(listener, options).await {
                panic!("the test scheduler stopped: {error}");
            }
        })];
        let mut flight_ports = Vec::new();
        for executor in 0..executors {
            let flight_port = free_port();
            flight_ports.push(flight_port);
            let options = ExecutorOptions {
                flight_port,
                grpc_port: free_port(),
                scheduler_port: port,
                concurrency: 2,
                heartbeat_seconds: 1,
                tls: identity(&format!("executor-{executor}")),
                source_options: source_options.clone(),
                ..ExecutorOptions::default()
            };
            tasks.push(tokio::spawn(async move {
                if let Err(error) = run_executor(options).await {
                    panic!("a test executor stopped: {error}");
                }
            }));
        }
        let cluster = Self {
            url: format!("df://127.0.0.1:{port}"),
            port,
            flight_ports,
            node_tls: tls_folder.map(|folder| peer_tls(folder, "node")),
            tasks,
        };
        cluster.wait_until_ready().await;
        cluster
    }

    /// The engine's settings for this cluster.
    pub fn settings(&self) -> EngineSettings {
        EngineSettings::default()
            .with_cluster(Some(self.url.clone()))
            .with_cluster_tls(self.node_tls.clone())
    }

    /// Waits up to 30 s for a query to run: the executors have registered.
    async fn wait_until_ready(&self) {
        let folder = tempfile::tempdir().unwrap();
        let csv = folder.path().join("one.csv");
        std::fs::write(&csv, "id\n1\n").unwrap();
        let mut last = String::new();
        for _ in 0..30 {
            let source = ProfileSource::new(csv.to_string_lossy());
            match Profiles::open_with(source, &self.settings()).await {
                Ok(profiles) => {
                    match tokio::time::timeout(Duration::from_secs(1), profiles.count_all()).await {
                        Ok(Ok(1)) => return,
                        Ok(Ok(other)) => last = format!("counted {other}"),
                        Ok(Err(error)) => last = error.to_string(),
                        Err(_) => last = "the count did not finish within a second".into(),
                    }
                }
                Err(error) => last = error.to_string(),
            }
        }
        panic!("the loopback cluster did not answer: {last}");
    }
}
