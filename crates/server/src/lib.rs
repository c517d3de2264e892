//! `segsync serve`: the REST API over users, connections, segments, exports and runs, on the
//! store of `segsync-store`.
//!
//! Every handler states the least role it needs through the [`auth::Caller`] it takes, so the
//! role rules live beside the routes, and a test checks each route against each role.

mod audit;
pub mod auth;
pub mod config;
mod connect;
mod connection_tokens;
pub mod crypto;
mod error;
mod routes;
mod segments;
mod state;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tracing::info;

pub use config::ServerConfig;
pub use error::ApiError;
pub use state::AppState;

/// The server, bound and serving until `shutdown` resolves.
pub async fn serve(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::open(config).await?;
    let listener = TcpListener::bind(state.config.listen).await?;
    info!(address = %listener.local_addr()?, "segsync is serving.");
    axum::serve(
        listener,
        routes::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    state.store.close().await;
    Ok(())
}

/// A server on an already bound listener, for tests and embedding: returns at once.
pub async fn spawn(config: ServerConfig, listener: TcpListener) -> anyhow::Result<AppState> {
    let state = AppState::open(config).await?;
    let app = routes::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "The server stopped.");
        }
    });
    Ok(state)
}
