//! A stateful Constant Contact v3 sandbox.
//!
//! It serves the endpoints segment exports use — OAuth (authorization code with PKCE, refresh
//! with rotation, device flow), contact lists, bulk JSON imports with asynchronous activities,
//! contacts, custom fields and list-membership removal — with Constant Contact's limits and error bodies, and
//! an admin API under `/__sandbox` that injects faults and reads its state back.
//!
//! It knows Constant Contact's JSON on its own, written from the published Swagger file rather
//! than shared with the client crate, so that each checks the other.

mod activity_runner;
mod args;
pub mod config;
mod routes;
mod server;
pub mod state;
mod templates;

pub use args::{DEFAULT_REDIRECT_URI, SandboxArgs};
pub use config::{ClientRegistration, SandboxConfig};
pub use server::RunningSandbox;
pub use state::contacts::HandAdded;
pub use state::faults::{Fault, FaultAction};
pub use state::{LoggedRequest, SandboxState};

/// Starts a sandbox on `address` (use port 0 for any free port) and returns at once; it runs
/// until the handle is shut down or dropped.
pub async fn spawn(
    config: SandboxConfig,
    address: std::net::SocketAddr,
) -> std::io::Result<RunningSandbox> {
    server::spawn(config, address).await
}
