//! `segsync bench --only cluster`: segment counts over 10, 30 and 100 million profiles in
//! partitioned Parquet, embedded against a loopback cluster of this binary's processes (a
//! scheduler and two executors of one task slot each), then a 1,000,000-member export
//! streamed from the cluster beside the same export embedded, with the exporting process's
//! peak memory; and (l), behaviour segments over the same profiles and their orders in object
//! storage (`bench_cluster_storage.rs`).

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use segsync_domain::segment::RunClock;
use segsync_engine::{EngineSettings, ProfileSource, Profiles};

use super::bench::{bench_segments, peak_memory_mb_of, three_counts, until_listening};
use super::bench_cluster_storage::ObjectStorageBench;
use super::bench_sources::MotoProcess;
use crate::progress::counter;
use crate::sample::write_profile_part;

/// Rows in each Parquet file of the partitioned profiles.
pub(super) const ROWS_PER_PART: usize = 10_000_000;

pub(super) async fn cluster_bench(
    folder: &Path,
    largest: usize,
    members: usize,
    moto_server: Option<&Path>,
) -> anyhow::Result<()> {
    let sizes: Vec<usize> = [10_000_000, 30_000_000, 100_000_000]
        .into_iter()
        .filter(|&rows| rows <= largest.max(ROWS_PER_PART))
        .collect();
    let parts = partitioned_profiles(folder, *sizes.last().unwrap_or(&ROWS_PER_PART))?;
    // The executors open the object storage of (l) with their own options.
    let moto = match moto_server {
        Some(program) => Some(MotoProcess::start(program).await?),
        None => None,
    };
    let options_file = folder.join("cluster-source-options.toml");
    if let Some(moto) = &moto {
        moto.write_options_file(&options_file)?;
    }
    let cluster = LoopbackCluster::start(folder, moto.as_ref().map(|_| options_file.as_path()))?;
    let on_cluster = EngineSettings::default().with_cluster(Some(cluster.url()));
    let embedded = EngineSettings::default();
    let segments = bench_segments()?;
    let clock = RunClock::new(Utc::now(), chrono_tz::UTC);
    let mut out = std::io::stdout();
    writeln!(
        out,
        "(h) segment counts, embedded and on a loopback cluster (a scheduler and two executors \
         of one task slot), median of three"
    )?;
    for rows in sizes {
        let source = parts_source(folder, &parts, rows)?;
        let here = Profiles::open_with(source.clone(), &embedded).await?;
        let there = Profiles::open_with(source, &on_cluster).await?;
        writeln!(out, "    {rows} profiles in {} files", rows / ROWS_PER_PART)?;
        for segment in &segments {
            let membership = here.segment_expr(segment, &segments, &clock)?;
            let (members, [_, embedded, _]) = three_counts(&here, &membership).await?;
            let (on_cluster, [_, cluster, _]) = three_counts(&there, &membership).await?;
            anyhow::ensure!(
                members == on_cluster,
                "{}: {members} members embedded, {on_cluster} on the cluster",
                segment.name
            );
            writeln!(
                out,
                "        {:<30} {members:>11} members   embedded {embedded:.3} s   cluster \
                 {cluster:.3} s   ({:.2}×)",
                segment.name,
                cluster / embedded
            )?;
        }
    }
    writeln!(
        out,
        "(i) the export benchmark (b), each in a process of its own: embedded, then on the cluster"
    )?;
    out.write_all(&export_in_a_process(folder, members, None)?)?;
    out.write_all(&export_in_a_process(folder, members, Some(&cluster.url()))?)?;
    writeln!(
        out,
        "    peak resident memory of the cluster's processes: {}",
        cluster.peak_memory_in_words()
    )?;
    match &moto {
        Some(moto) => {
            let storage = ObjectStorageBench {
                folder,
                parts: &parts,
                moto,
                cluster: &cluster.url(),
            };
            storage.run().await?;
            writeln!(
                out,
                "    peak resident memory: the cluster's processes {}; moto {} MB",
                cluster.peak_memory_in_words(),
                peak_memory_mb_of(&moto.pid().to_string())
            )?;
        }
        None => writeln!(
            out,
            "(l) behaviour segments from object storage on the cluster: left out (give \
             --moto-server or MOTO_SERVER)"
        )?,
    }
    Ok(())
}

/// `segsync bench --only export` as a child process, so that its peak memory is the export's
/// alone; what it printed.
fn export_in_a_process(
    folder: &Path,
    members: usize,
    cluster: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([
            "bench",
            "--only",
            "export",
            "--members",
            &members.to_string(),
        ])
        .arg("--work-dir")
        .arg(folder);
    if let Some(cluster) = cluster {
        command.args(["--cluster", cluster]);
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    anyhow::ensure!(output.status.success(), "the export benchmark failed");
    Ok(output.stdout)
}

/// Files of ten million profiles each (ids running on from file to file), generated once.
fn partitioned_profiles(folder: &Path, rows: usize) -> anyhow::Result<Vec<PathBuf>> {
    let parts_folder = folder.join("cluster-parts");
    std::fs::create_dir_all(&parts_folder)?;
    (0..rows.div_ceil(ROWS_PER_PART))
        .map(|part| {
            let path = parts_folder.join(format!("part-{part:02}.parquet"));
            if !path.exists() {
                let partial = path.with_extension("partial");
                let bar = counter(ROWS_PER_PART as u64, &format!("generating part {part}"));
                write_profile_part(
                    &partial,
                    part * ROWS_PER_PART,
                    ROWS_PER_PART,
                    100 + part as u64,
                    |written| bar.set_position(written as u64),
                )?;
                bar.finish_and_clear();
                std::fs::rename(&partial, &path)?;
            }
            Ok(path)
        })
        .collect()
}

/// A folder holding the first `rows / 10,000,000` parts (hard links), read as one source.
fn parts_source(folder: &Path, parts: &[PathBuf], rows: usize) -> anyhow::Result<ProfileSource> {
    let view = folder.join(format!("cluster-{rows}"));
    std::fs::create_dir_all(&view)?;
    for part in &parts[..rows / ROWS_PER_PART] {
        let link = view.join(part.file_name().context("a part has a name")?);
        if !link.exists() {
            std::fs::hard_link(part, &link)?;
        }
    }
    Ok(ProfileSource::new(view.to_string_lossy()))
}

/// A scheduler and two executors, processes of this binary on loopback ports.
struct LoopbackCluster {
    port: u16,
    processes: Vec<Child>,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LoopbackCluster {
    /// With `source_options`, every process opens object storage with that file's options.
    fn start(folder: &Path, source_options: Option<&Path>) -> anyhow::Result<Self> {
        let binary = std::env::current_exe()?;
        let port = free_port()?;
        let options: Vec<&std::ffi::OsStr> = match source_options {
            Some(file) => vec!["--source-options".as_ref(), file.as_os_str()],
            None => Vec::new(),
        };
        let mut processes = vec![
            Command::new(&binary)
                .args(["cluster", "scheduler", "--port", &port.to_string()])
                .args(&options)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting the scheduler")?,
        ];
        anyhow::ensure!(
            until_listening(port),
            "the scheduler did not start on port {port}"
        );
        for executor in 0..2 {
            let work_dir = folder.join(format!("executor-{executor}"));
            std::fs::create_dir_all(&work_dir)?;
            processes.push(
                Command::new(&binary)
                    .args(["cluster", "executor", "--scheduler-port", &port.to_string()])
                    .args(["--flight-port", &free_port()?.to_string()])
                    .args(["--grpc-port", &free_port()?.to_string()])
                    .args(["--concurrency", "1", "--work-dir"])
                    .arg(&work_dir)
                    .args(&options)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .context("starting an executor")?,
            );
        }
        // Executors register with their first poll for work.
        std::thread::sleep(Duration::from_secs(2));
        Ok(Self { port, processes })
    }

    fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.port)
    }

    /// Each process's peak resident memory, scheduler first.
    fn peak_memory_in_words(&self) -> String {
        let names = ["scheduler", "executor 1", "executor 2"];
        self.processes
            .iter()
            .zip(names)
            .map(|(process, name)| {
                let peak = peak_memory_mb_of(&process.id().to_string());
                format!("{name} {peak} MB")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Drop for LoopbackCluster {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}
