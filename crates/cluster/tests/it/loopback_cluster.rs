//! A Ballista cluster on loopback for the tests: a scheduler on a port of its own and
//! executors, each on ports of their own, started in this process.

use std::time::Duration;

use segsync_cluster::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler_on};
use segsync_engine::{EngineSettings, ProfileSource, Profiles};
use tokio::task::JoinHandle;

pub struct LoopbackCluster {
    /// `df://127.0.0.1:PORT`, as `[engine] cluster` takes it.
    pub url: String,
    /// The Arrow Flight port of each executor.
    pub flight_ports: Vec<u16>,
    tasks: Vec<JoinHandle<()>>,
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let options = SchedulerOptions {
            port,
            executor_timeout_seconds: 10,
            ..SchedulerOptions::default()
        };
        let mut tasks = vec![tokio::spawn(async move {
            if let Err(error) = run_scheduler_on(listener, options).await {
                panic!("the test scheduler stopped: {error}");
            }
        })];
        let mut flight_ports = Vec::new();
        for _ in 0..executors {
            let flight_port = free_port();
            flight_ports.push(flight_port);
            let options = ExecutorOptions {
                flight_port,
                grpc_port: free_port(),
                scheduler_port: port,
                concurrency: 2,
                heartbeat_seconds: 1,
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
            flight_ports,
            tasks,
        };
        cluster.wait_until_ready().await;
        cluster
    }

    /// The engine's settings for this cluster.
    pub fn settings(&self) -> EngineSettings {
        EngineSettings::default().with_cluster(Some(self.url.clone()))
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
