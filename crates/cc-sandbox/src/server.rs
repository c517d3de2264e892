//! Serving the sandbox: one HTTP/1.1 connection task per client, so that a fault can close a
//! connection without answering, as a failing network does.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::SandboxConfig;
use crate::routes;
use crate::state::SandboxState;

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// The error that makes hyper close a connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// A sandbox running in the background.
pub struct RunningSandbox {
    address: SocketAddr,
    state: Arc<SandboxState>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:{port}`: the root under which `/v3` and `/oauth2/default/v1` live.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn state(&self) -> &Arc<SandboxState> {
        &self.state
    }

    /// Stops accepting connections and closes the open ones.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Runs until the process is interrupted.
    pub async fn serve_until_ctrl_c(self) -> std::io::Result<()> {
        tokio::signal::ctrl_c().await?;
        self.shutdown().await;
        Ok(())
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

pub(crate) async fn spawn(
    config: SandboxConfig,
    address: SocketAddr,
) -> std::io::Result<RunningSandbox> {
    let listener = TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    let state = Arc::new(SandboxState::new(config));
    let router = routes::router(state.clone());
    let (shutdown, mut shutdown_requested) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut shutdown_requested => break,
                accepted = listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let router = router.clone();
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            let router = router.clone();
                            async move {
                                let response = router.oneshot(request).await.unwrap_or_else(|never| match never {});
                                if response.extensions().get::<DropConnection>().is_some() {
                                    // hyper closes the connection when the service fails.
                                    return Err(Dropped);
                                }
                                Ok(response)
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
            while connections.try_join_next().is_some() {}
        }
        connections.shutdown().await;
    });
    Ok(RunningSandbox {
        address,
        state,
        shutdown: Some(shutdown),
        server: Some(server),
    })
}
