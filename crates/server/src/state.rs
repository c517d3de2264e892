//! What every request handler shares.

use std::sync::Arc;

use constant_contact::ApiConfig;
use segsync_store::Store;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::auth::{AddressThrottle, PasswordPool};
use crate::config::ServerConfig;
use crate::connection_tokens::TokenOwners;
use crate::crypto::Sealer;
use crate::member_counts::MemberCounts;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    /// Seals tokens and OAuth verifiers for the store.
    pub sealer: Arc<Sealer>,
    /// This installation's Constant Contact application.
    pub api: Arc<ApiConfig>,
    /// One HTTP client for every call to Constant Contact.
    pub http: reqwest::Client,
    /// The API key's one rate limit and daily count in this process, shared by every client.
    pub(crate) budget: Arc<constant_contact::ApiKeyBudget>,
    /// Names this process in the runs it works on, so that other nodes can tell whose runs
    /// fell silent.
    pub node_id: Arc<str>,
    /// Wakes an idle run worker when a run is queued.
    pub(crate) run_queued: Arc<Notify>,
    /// The one token manager of each connection in this process.
    pub(crate) token_owners: Arc<TokenOwners>,
    /// Where passwords are hashed and checked, a few at a time.
    pub(crate) passwords: Arc<PasswordPool>,
    /// Failed sign-ins per client address.
    pub(crate) sign_in_addresses: Arc<AddressThrottle>,
    /// Each segment's member count, evaluated again only when what it depends on changed.
    pub(crate) member_counts: Arc<MemberCounts>,
}

impl AppState {
    pub async fn open(config: ServerConfig) -> anyhow::Result<Self> {
        config.check()?;
        let sealer = Sealer::new(
            &config.encryption_key()?,
            &config.previous_encryption_keys()?,
        );
        let api = config.api_config();
        let http = constant_contact::api::http_client(&api)?;
        let store = Store::open(&config.database_url).await?;
        let sign_in_addresses = Arc::new(AddressThrottle::new(
            config.login_max_failures_per_address,
            std::time::Duration::from_secs(u64::from(config.login_lock_minutes) * 60),
        ));
        let budget = Arc::new(constant_contact::ApiKeyBudget::new(
            api.requests_per_second,
            api.daily_quota,
        ));
        Ok(Self {
            budget,
            store,
            config: Arc::new(config),
            sealer: Arc::new(sealer),
            api: Arc::new(api),
            http,
            node_id: Arc::from(format!("node-{}", Uuid::new_v4())),
            run_queued: Arc::new(Notify::new()),
            token_owners: Arc::new(TokenOwners::default()),
            passwords: Arc::new(PasswordPool::for_this_machine()),
            sign_in_addresses,
            member_counts: Arc::new(MemberCounts::default()),
        })
    }
}
