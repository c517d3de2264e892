//! `segsync`: keep Constant Contact lists in step with customer segments.

mod cli;
mod commands;
mod connect;
mod export_config;
mod progress;
mod sample;
mod state_file;
mod token_file;

use clap::Parser;

use crate::cli::{Cli, Command, SegmentsCommand};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match cli.command {
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
        Command::Users { command } => commands::users::run(command).await,
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the level. Quiet by default so progress bars and
/// reports stay readable.
fn init_logging(verbose: bool) {
    let default = if verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
