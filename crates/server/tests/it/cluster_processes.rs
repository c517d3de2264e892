//! A Ballista cluster of `segsync cluster` processes on loopback, for tests that kill and
//! restart its members: a scheduler on a free port, and executors started and killed one by
//! one, each logging to a file of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use segsync_engine::{EngineSettings, ProfileSource, Profiles};

use crate::helpers::free_port;
use crate::processes::{Process, segsync_binary};

/// Seconds without a heartbeat before the scheduler takes an executor for dead: short, so
/// that a killed executor's tasks move on within the test.
const EXECUTOR_TIMEOUT_SECONDS: &str = "3";

pub(crate) struct ProcessCluster {
    scheduler_port: u16,
    scheduler: Option<Process>,
    executors: Vec<Option<Process>>,
    folder: tempfile::TempDir,
    /// Where the authority and the certificates are, when the cluster speaks TLS.
    tls: Option<PathBuf>,
}

impl ProcessCluster {
    /// A scheduler, and no executor yet.
    pub(crate) fn start() -> Self {
        Self::start_with(false)
    }

    /// As [`Self::start`], every process over mutual TLS with a certificate of its own.
    pub(crate) fn start_tls() -> Self {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let mut cluster = Self {
            scheduler_port: free_port(),
            scheduler: None,
            executors: Vec::new(),
            tls: tls.then(|| folder.path().join("tls")),
            folder,
        };
        cluster.start_scheduler();
        cluster
    }

    /// The TLS files of the peer `name`, made by `segsync cluster certificates` the first
    /// time; none when the cluster is plain.
    fn peer_tls(&self, name: &str) -> Option<segsync_engine::ClusterTls> {
        let folder = self.tls.as_ref()?;
        let files = segsync_engine::ClusterTls {
            ca: folder.join("ca.pem"),
            certificate: folder.join(format!("{name}.pem")),
            key: folder.join(format!("{name}.key")),
        };
        if !files.certificate.exists() {
            let made = Command::new(segsync_binary())
                .args([
                    "cluster",
                    "certificates",
                    name,
                    "--host",
                    "127.0.0.1",
                    "--folder",
                ])
                .arg(folder)
                .output()
                .unwrap();
            assert!(made.status.success(), "{made:?}");
        }
        Some(files)
    }

    /// The `--tls-*` options of the peer `name`; none when the cluster is plain.
    fn tls_arguments(&self, name: &str) -> Vec<String> {
        self.peer_tls(name).map_or_else(Vec::new, |files| {
            [
                ("--tls-ca", files.ca),
                ("--tls-certificate", files.certificate),
                ("--tls-key", files.key),
            ]
            .into_iter()
            .flat_map(|(option, file)| [option.to_owned(), file.to_string_lossy().into_owned()])
            .collect()
        })
    }

    /// `df://127.0.0.1:PORT`, as `[engine] cluster` takes it.
    pub(crate) fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.scheduler_port)
    }

    /// The engine's settings for this cluster.
    pub(crate) fn settings(&self) -> EngineSettings {
        EngineSettings::default()
            .with_cluster(Some(self.url()))
            .with_cluster_tls(self.peer_tls("node"))
    }

    /// Starts the scheduler (again) on its port.
    pub(crate) fn start_scheduler(&mut self) {
        let log = self.log_file("scheduler");
        let mut command = Command::new(segsync_binary());
        command
            .args(["cluster", "scheduler", "--port"])
            .arg(self.scheduler_port.to_string())
            .args(["--executor-timeout-seconds", EXECUTOR_TIMEOUT_SECONDS])
            .args(["--executor-wait-seconds", "5"])
            .args(self.tls_arguments("scheduler"));
        self.scheduler = Some(spawn_logging(command, log));
    }

    /// Kills the scheduler at once, as a crash would.
    pub(crate) fn kill_scheduler(&mut self) {
        self.scheduler.take().expect("a scheduler is running");
    }

    /// Starts an executor of one task slot; returns its number. With `hidden`, the executor
    /// sees that folder empty (a mount namespace of its own, with an empty file system over
    /// it), as a machine that does not have the profiles would.
    pub(crate) fn start_executor(&mut self, hidden: Option<&Path>) -> usize {
        let index = self.executors.len();
        let work_dir = self.folder.path().join(format!("executor-{index}"));
        std::fs::create_dir_all(&work_dir).unwrap();
        let mut arguments: Vec<String> = [
            "cluster",
            "executor",
            "--scheduler-port",
            &self.scheduler_port.to_string(),
            "--flight-port",
            &free_port().to_string(),
            "--grpc-port",
            &free_port().to_string(),
            "--concurrency",
            "1",
            "--heartbeat-seconds",
            "1",
            "--work-dir",
            &work_dir.to_string_lossy(),
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        arguments.extend(self.tls_arguments(&format!("executor-{index}")));
        let command = match hidden {
            None => {
                let mut command = Command::new(segsync_binary());
                command.args(&arguments);
                command
            }
            Some(folder) => {
                let mut command = Command::new("unshare");
                command
                    .args(["--user", "--map-root-user", "--mount", "--propagation"])
                    .args(["private", "sh", "-c"])
                    .arg(r#"mount -t tmpfs none "$HIDDEN" && exec "$0" "$@""#)
                    .arg(segsync_binary())
                    .args(&arguments)
                    .env("HIDDEN", folder);
                command
            }
        };
        let log = self.log_file(&format!("executor-{index}"));
        self.executors.push(Some(spawn_logging(command, log)));
        index
    }

    /// Kills an executor at once (SIGKILL), as a crash or a lost machine would.
    pub(crate) fn kill_executor(&mut self, index: usize) {
        self.executors[index]
            .take()
            .expect("the executor is running");
    }

    /// What the process has logged so far.
    pub(crate) fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.log_path(name)).unwrap_or_default()
    }

    /// Waits until the executor `index` has started a task after the first `skip` bytes of
    /// its log.
    pub(crate) async fn until_running_a_task(&self, index: usize, skip: usize) {
        let name = format!("executor-{index}");
        for _ in 0..600 {
            if self
                .log(&name)
                .get(skip..)
                .is_some_and(|new| new.contains("Running a task."))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "executor {index} ran no task within 30 s:\n{}",
            self.log(&name)
        );
    }

    /// Waits up to 60 s for a query to run on the cluster: an executor has registered.
    pub(crate) async fn until_ready(&self) {
        let csv = self.folder.path().join("ready.csv");
        std::fs::write(&csv, "id\n1\n").unwrap();
        let mut last = String::new();
        for _ in 0..120 {
            let source = ProfileSource::new(csv.to_string_lossy());
            match Profiles::open_with(source, &self.settings()).await {
                Ok(profiles) => {
                    match tokio::time::timeout(Duration::from_secs(2), profiles.count_all()).await {
                        Ok(Ok(1)) => return,
                        Ok(Ok(other)) => last = format!("counted {other}"),
                        Ok(Err(error)) => last = error.to_string(),
                        Err(_) => last = "the count did not finish within 2 s".into(),
                    }
                }
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        panic!(
            "the cluster did not answer: {last}\nscheduler:\n{}",
            self.log("scheduler")
        );
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.folder.path().join(format!("{name}.log"))
    }

    fn log_file(&self, name: &str) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(name))
            .unwrap()
    }
}

fn spawn_logging(mut command: Command, log: std::fs::File) -> Process {
    command
        .env("RUST_LOG", "segsync_cluster=info,warn")
        .stdout(Stdio::null())
        .stderr(log);
    Process(command.spawn().unwrap())
}
