//! What every request handler shares.

use std::sync::Arc;

use segsync_app::App;
use segsync_connections::{Clients, Sealer};
use segsync_runs::{RunEngine, RunSettings};
use segsync_store::Store;
use uuid::Uuid;

use crate::auth::AddressThrottle;
use crate::config::ServerConfig;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    /// The run engine: it owns the clients of connections (one HTTP client, the API key's one
    /// budget, one token manager per connection) and the run queue's wake-ups.
    pub runs: RunEngine,
    /// What segsync does: the use cases the routes and the console adapt.
    pub app: App,
    /// Failed sign-ins per client address.
    pub(crate) sign_in_addresses: Arc<AddressThrottle>,
}

impl AppState {
    pub async fn open(config: ServerConfig) -> anyhow::Result<Self> {
        config.check()?;
        let sealer = Sealer::new(
            &config.encryption_key()?,
            &config.previous_encryption_keys()?,
        );
        let store = Store::open(&config.database_url).await?;
        let node_id = format!("node-{}", Uuid::new_v4());
        let clients = Clients::new(
            store.clone(),
            config.api_config(),
            Arc::new(sealer),
            node_id,
        )?;
        let runs = RunEngine::new(
            store.clone(),
            clients,
            RunSettings {
                runs: config.runs.clone(),
                profiles: config.profiles.clone(),
                related: config.related_tables(),
                member_limit: config.member_limit,
                engine: config.engine.clone(),
            },
        );
        let sign_in_addresses = Arc::new(AddressThrottle::new(
            config.login_max_failures_per_address,
            std::time::Duration::from_secs(u64::from(config.login_lock_minutes) * 60),
        ));
        Ok(Self {
            store,
            config: Arc::new(config),
            app: App::new(runs.clone()),
            runs,
            sign_in_addresses,
        })
    }

    /// Seals secrets (tokens, OAuth verifiers) for the store.
    pub fn sealer(&self) -> &Sealer {
        self.runs.clients().sealer()
    }
}
