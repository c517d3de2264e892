//! What every request handler shares.

use std::sync::Arc;

use segsync_store::Store;

use crate::config::ServerConfig;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub async fn open(config: ServerConfig) -> anyhow::Result<Self> {
        config.check()?;
        let store = Store::open(&config.database_url).await?;
        Ok(Self {
            store,
            config: Arc::new(config),
        })
    }
}
