//! What every request handler shares.

use std::sync::Arc;

use segsync_app::sessions::SignInPolicy;
use segsync_app::{App, AppSettings};
use segsync_connections::{Clients, Sealer};
use segsync_runs::{RunEngine, RunSettings};
use segsync_store::Store;
use uuid::Uuid;

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
                opt_outs_write_to: config.opt_outs.write_to.clone(),
                exclusions_source: config.exclusions.clone(),
                full_samples: config.privacy.full_samples,
                watch: config.schedule.clone(),
            },
        );
        let app = App::new(
            runs.clone(),
            AppSettings {
                public_url: config.public_url.clone(),
                alerts: config.alerts.clone(),
                sign_in: SignInPolicy {
                    max_failures: config.login_max_failures,
                    max_failures_per_address: config.login_max_failures_per_address,
                    lock_minutes: config.login_lock_minutes,
                    session_hours: config.session_hours,
                },
                look_ups_kept_for: std::time::Duration::from_secs(
                    config.constant_contact.look_ups_kept_seconds,
                ),
                retention: config.retention.clone(),
            },
        );
        Ok(Self {
            store,
            config: Arc::new(config),
            app,
            runs,
        })
    }

    /// Seals secrets (tokens, OAuth verifiers) for the store.
    pub fn sealer(&self) -> &Sealer {
        self.runs.clients().sealer()
    }
}
