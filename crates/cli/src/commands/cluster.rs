//! `segsync cluster scheduler|executor`: the roles of a Ballista cluster, from this binary.

use segsync_cluster::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler};

use crate::cli::{ClusterCommand, ExecutorArgs, SchedulerArgs};

pub(crate) async fn run(command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Scheduler(args) => scheduler(args).await,
        ClusterCommand::Executor(args) => executor(args).await,
    }
}

async fn scheduler(args: SchedulerArgs) -> anyhow::Result<()> {
    run_scheduler(SchedulerOptions {
        bind_host: args.bind_host,
        port: args.port,
        external_host: args.external_host,
        executor_timeout_seconds: args.executor_timeout_seconds,
        executor_wait_seconds: args.executor_wait_seconds,
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
    })
    .await?;
    Ok(())
}
