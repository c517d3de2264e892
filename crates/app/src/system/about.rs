//! The build and the store the installation runs on.

use segsync_store::Backend;
use serde::Serialize;

use super::SystemAdmin;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AboutView {
    /// The build's version.
    pub version: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// The memory segment evaluation may use, as configured (`[engine] memory_limit`).
    pub engine_memory_limit: String,
    /// Where the console is reached, as links in alerts name it.
    pub public_url: String,
}

impl SystemAdmin<'_> {
    pub fn about(&self) -> AboutView {
        AboutView {
            version: env!("CARGO_PKG_VERSION"),
            database: match self.app.store().backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            engine_memory_limit: self.app.engine().settings().engine.memory_limit.to_string(),
            public_url: self.app.public_url.to_string(),
        }
    }
}
