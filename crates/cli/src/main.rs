//! `segsync`: keep Constant Contact lists in step with customer segments.

mod cli;
mod commands;
mod connect;
mod export_config;
mod local_run;
mod progress;
mod sample;
mod sample_orders;
mod sample_varied;
mod state_file;
mod token_file;

use clap::Parser;

use crate::cli::{Cli, Command, SegmentsCommand, SourcesCommand};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The server logs as its configuration says, once it is read.
    if !matches!(cli.command, Command::Serve(_)) {
        init_logging(cli.verbose, segsync_server::LogFormat::Text);
    }
    match cli.command {
        Command::Demo(args) if args.serve => commands::demo_serve::run(args).await,
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Segments {
            command: SegmentsCommand::Check(args),
        } => commands::segments::check(args).await,
        Command::Segments {
            command: SegmentsCommand::Preview(args),
        } => commands::segments::preview(args).await,
        Command::Export(args) => commands::export::run(args).await,
        Command::Sandbox(args) => commands::sandbox::run(args).await,
        Command::Bench(args) => commands::bench::run(args).await,
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Sources {
            command: SourcesCommand::Check(args),
        } => commands::sources::check(args).await,
        Command::Users { command } => commands::users::run(command).await,
        Command::Privacy { command } => commands::privacy::run(command).await,
        Command::Trigger(args) => commands::trigger::run(args).await,
        Command::Cluster { command } => commands::cluster::run(command).await,
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the level. Commands are quiet by default so
/// progress bars and reports stay readable; `--verbose` (and `serve`) log from `info`.
pub(crate) fn init_logging(verbose: bool, format: segsync_server::LogFormat) {
    let default = if verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logging = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        segsync_server::LogFormat::Text => logging.init(),
        // Each event with the fields of every span it happened in: request and run ids.
        segsync_server::LogFormat::Json => logging
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .init(),
    }
}
