//! `segsync cluster scheduler|executor|certificates|status`: the roles of a Ballista cluster,
//! from this binary, the certificates of their mutual TLS, and what the scheduler says of it.

use std::io::Write;

use anyhow::Context;

use segsync_cluster::certificates::{AUTHORITY_CERTIFICATE, AUTHORITY_KEY, write_peer};
use segsync_cluster::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler};
use segsync_engine::ClusterIdentity;

use crate::cli::{
    CertificatesArgs, ClusterCommand, ClusterTlsArgs, ExecutorArgs, SchedulerArgs, StatusArgs,
};

pub(crate) async fn run(command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Scheduler(args) => scheduler(args).await,
        ClusterCommand::Executor(args) => executor(args).await,
        ClusterCommand::Certificates(args) => certificates(&args),
        ClusterCommand::Status(args) => status(&args).await,
    }
}

/// Prints what the scheduler says; fails when it cannot be reached or no executor is alive.
async fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let status = segsync_engine::cluster_status(&args.cluster, args.tls.files().as_ref()).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&status)?)?;
    } else {
        writeln!(
            out,
            "The cluster at {}: {}.",
            args.cluster,
            status.summary()
        )?;
        for executor in &status.executors {
            let heartbeat = executor
                .seconds_since_heartbeat
                .map_or_else(|| "never".to_owned(), |seconds| format!("{seconds} s ago"));
            writeln!(
                out,
                "  {}  {:<8}  {} slots  last heartbeat {heartbeat}",
                executor.address, executor.state, executor.slots
            )?;
        }
    }
    if status.alive().next().is_none() {
        anyhow::bail!("no executor of the cluster at {} is alive", args.cluster);
    }
    Ok(())
}

/// The TLS files given, read and checked.
fn identity(tls: &ClusterTlsArgs) -> anyhow::Result<Option<ClusterIdentity>> {
    Ok(tls.files().map(|files| files.load()).transpose()?)
}

async fn scheduler(args: SchedulerArgs) -> anyhow::Result<()> {
    run_scheduler(SchedulerOptions {
        bind_host: args.bind_host,
        port: args.port,
        external_host: args.external_host,
        executor_timeout_seconds: args.executor_timeout_seconds,
        executor_wait_seconds: args.executor_wait_seconds,
        drain_seconds: args.drain_seconds,
        tls: identity(&args.tls)?,
        source_options: source_options(args.source_options.as_deref())?,
    })
    .await?;
    Ok(())
}

async fn executor(args: ExecutorArgs) -> anyhow::Result<()> {
    let defaults = ExecutorOptions::default();
    run_executor(ExecutorOptions {
        bind_host: args.bind_host,
        external_host: args.external_host,
        flight_port: args.flight_port,
        grpc_port: args.grpc_port,
        scheduler_host: args.scheduler_host,
        scheduler_port: args.scheduler_port,
        concurrency: args.concurrency.unwrap_or(defaults.concurrency),
        memory_limit: args.memory_limit.map(|limit| limit.as_u64()),
        work_dir: args.work_dir,
        heartbeat_seconds: args.heartbeat_seconds,
        tls: identity(&args.tls)?,
        source_options: source_options(args.source_options.as_deref())?,
    })
    .await?;
    Ok(())
}

/// The storage options of `--source-options FILE`: a TOML table of keys and text values.
fn source_options(file: Option<&std::path::Path>) -> anyhow::Result<segsync_engine::SourceOptions> {
    let mut options = segsync_engine::SourceOptions::default();
    let Some(file) = file else {
        return Ok(options);
    };
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let table: std::collections::BTreeMap<String, String> =
        toml::from_str(&text).with_context(|| {
            format!(
                "{}: storage options are keys with text values",
                file.display()
            )
        })?;
    for (key, value) in table {
        options.set(&key, value);
    }
    Ok(options)
}

fn certificates(args: &CertificatesArgs) -> anyhow::Result<()> {
    let written = write_peer(&args.folder, &args.name, &args.hosts, args.days)?;
    let mut out = std::io::stdout();
    if written.new_authority {
        writeln!(
            out,
            "Made the cluster's authority: {} (give it to every peer) and its key {} (keep it \
             off the peers).",
            args.folder.join(AUTHORITY_CERTIFICATE).display(),
            args.folder.join(AUTHORITY_KEY).display()
        )?;
    }
    writeln!(
        out,
        "Wrote {} and {} for {}, valid for {} days.",
        written.certificate.display(),
        written.key.display(),
        args.hosts.join(", "),
        args.days
    )?;
    Ok(())
}
