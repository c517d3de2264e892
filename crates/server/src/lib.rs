//! `segsync serve`: the REST API over users, connections, segments, exports and runs, on the
//! store of `segsync-store`.
//!
//! Every handler states the least role it needs through the [`auth::Caller`] it takes, so the
//! role rules live beside the routes, and a test checks each route against each role.

pub mod auth;
mod background;
pub mod client_address;
pub mod config;
mod console;
mod error;
mod http_server;
mod openapi;
mod request_span;
mod routes;
mod security_headers;
mod single_server;
mod state;
mod telemetry;

use segsync_domain::ChainExt;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

pub use config::{LogFormat, ServerConfig};
pub use error::{AppError, Code};
pub use state::AppState;

/// The server, bound and serving until `shutdown` resolves; then it stops taking requests,
/// lets its runs end their batch in flight, and closes the store.
pub async fn serve(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    let server = spawn(config, listener).await?;
    shutdown.await;
    info!("Shutting down.");
    server.stop().await;
    Ok(())
}

/// A server on an already bound listener, for tests and embedding: returns once it serves.
pub async fn spawn(config: ServerConfig, listener: TcpListener) -> anyhow::Result<Server> {
    telemetry::recorder();
    check_related_tables(&config).await?;
    let state = AppState::open(config).await?;
    let serving_lock = match state.store.sqlite_file() {
        Some(file) => match single_server::lock(file) {
            Ok(lock) => Some(lock),
            Err(error) => {
                state.store.close().await;
                return Err(error);
            }
        },
        None => None,
    };
    state.runs.resume_interrupted_runs_at_start().await?;
    segsync_app::alerts::start_new_webhooks(&state.app).await?;
    let workers = background::Background::start(&state);
    info!(address = %listener.local_addr()?, node = %state.runs.node_id(), "segsync is serving.");
    let router = routes::router(state.clone());
    let header_timeout = Duration::from_secs(state.config.request_header_seconds);
    let stopping = CancellationToken::new();
    let http = tokio::spawn(http_server::serve(
        listener,
        router,
        header_timeout,
        stopping.clone(),
    ));
    Ok(Server {
        state,
        stopping,
        http,
        workers,
        _serving_lock: serving_lock,
    })
}

/// Related tables that do not fit their configuration or the profiles stop the start, naming
/// the table and the column: every run using them would fail. Sources that cannot be read now
/// are only logged, since they may be back by the time a run needs them.
async fn check_related_tables(config: &ServerConfig) -> anyhow::Result<()> {
    let related = config.related_tables();
    if related.is_empty() {
        return Ok(());
    }
    let Some(source) = &config.profiles else {
        anyhow::bail!("related tables are configured, but no profiles: set profiles");
    };
    let profiles = match segsync_engine::Profiles::open_with(source.clone(), &config.engine).await {
        Ok(profiles) => profiles,
        Err(error) => {
            tracing::warn!(error = %error.chain(), "The profiles cannot be read now; the related tables are checked when they are.");
            return Ok(());
        }
    };
    match profiles.relate(&related).await {
        Ok(_) => Ok(()),
        Err(error @ segsync_engine::EngineError::Related { .. }) => Err(error.into()),
        Err(error) => {
            tracing::warn!(error = %error.chain(), "A related table cannot be read now.");
            Ok(())
        }
    }
}

/// A running server.
pub struct Server {
    pub state: AppState,
    stopping: CancellationToken,
    http: JoinHandle<()>,
    workers: background::Background,
    /// On SQLite, held while serving: a second server on the same file is refused.
    _serving_lock: Option<std::fs::File>,
}

impl Server {
    /// Stops gracefully: no new requests, running runs end their batch in flight (within the
    /// configured grace period), then the store closes.
    pub async fn stop(self) {
        self.stopping.cancel();
        let grace = Duration::from_secs(self.state.config.runs.shutdown_grace_seconds);
        self.workers.stop(grace).await;
        if let Err(error) = self.http.await {
            tracing::error!(error = %error.chain(), "The HTTP server task failed.");
        }
        self.state.store.close().await;
    }
}
