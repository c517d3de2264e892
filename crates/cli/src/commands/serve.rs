//! `segsync serve`: the server, configured from its layers with the command line on top, until
//! Ctrl-C or SIGTERM.

use figment::Figment;
use figment::providers::Serialized;
use segsync_server::ServerConfig;
use tracing::info;

use crate::cli::{ServeArgs, ServerConfigArgs};

/// The configuration's layers with the command line's flags over them.
pub(crate) fn server_config(
    args: &ServerConfigArgs,
    extra: impl FnOnce(Figment) -> Figment,
) -> anyhow::Result<ServerConfig> {
    let mut figment = ServerConfig::load(args.config.as_deref())?;
    if let Some(url) = &args.database_url {
        figment = figment.merge(Serialized::default("database_url", url));
    }
    Ok(ServerConfig::extract(&extra(figment))?)
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = server_config(&args.config, |figment| match args.listen {
        Some(listen) => figment.merge(Serialized::default("listen", listen.to_string())),
        None => figment,
    });
    // A server says what it does: from `info` unless RUST_LOG says otherwise.
    crate::init_logging(
        true,
        config
            .as_ref()
            .map_or(segsync_server::LogFormat::Text, |config| config.log.format),
    );
    segsync_server::serve(config?, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
    info!("Shutting down.");
}
