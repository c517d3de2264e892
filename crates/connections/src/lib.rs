//! Constant Contact clients for saved connections: one HTTP client and one budget of the API key
//! for the whole process, and one token manager per connection, whose tokens are sealed in the
//! store.

mod sealer;
mod tokens;

use segsync_domain::ChainExt;
use std::sync::Arc;

use constant_contact::api::ActivityTimes;
use constant_contact::{ApiConfig, ApiKeyBudget, ConstantContact, OAuthClient};
use segsync_store::{Connection, Health, Store};
use uuid::Uuid;

pub use sealer::{OpenError, Sealer};
use tokens::TokenOwners;
pub use tokens::seal_tokens;

/// Why a saved connection cannot act now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionUnusable {
    #[error("the connection {name:?} has not been authenticated with Constant Contact yet")]
    NotAuthenticated { name: String },
    #[error(
        "the connection {name:?} needs an admin to authenticate it with Constant Contact again ({reason})"
    )]
    NeedsReauthentication { name: String, reason: String },
    #[error("the connection {name:?} holds no tokens")]
    NoTokens { name: String },
    #[error("the tokens of the connection {name:?} could not be opened with the configured keys")]
    Unopenable { name: String },
}

/// Every client this process makes for Constant Contact comes from here.
pub struct Clients {
    store: Store,
    api: Arc<ApiConfig>,
    http: reqwest::Client,
    /// The API key's one rate limit and daily count in this process, shared by every client.
    budget: Arc<ApiKeyBudget>,
    /// Seals tokens (and whatever else the server keeps secret) for the store.
    sealer: Arc<Sealer>,
    node_id: Arc<str>,
    /// The one token manager of each connection in this process.
    owners: TokenOwners,
    /// How long Constant Contact took to carry out activities, learned by every run, so that
    /// each run's first poll comes when its imports are likely done.
    activity_times: Arc<ActivityTimes>,
}

impl Clients {
    /// The clients of this installation's Constant Contact application, in the process named
    /// `node_id`.
    pub fn new(
        store: Store,
        api: ApiConfig,
        sealer: Arc<Sealer>,
        node_id: impl Into<Arc<str>>,
    ) -> Result<Self, constant_contact::Error> {
        let http = constant_contact::api::http_client(&api)?;
        let budget = Arc::new(ApiKeyBudget::new(api.requests_per_second, api.daily_quota));
        Ok(Self {
            store,
            api: Arc::new(api),
            http,
            budget,
            sealer,
            node_id: node_id.into(),
            owners: TokenOwners::default(),
            activity_times: Arc::default(),
        })
    }

    /// This installation's Constant Contact application.
    pub fn api(&self) -> &ApiConfig {
        &self.api
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// The API key's budget in this process.
    pub fn budget(&self) -> &ApiKeyBudget {
        &self.budget
    }

    /// An OAuth client of the application, for the authorisation flow.
    pub fn oauth(&self) -> OAuthClient {
        OAuthClient::new((*self.api).clone(), self.http.clone())
    }

    /// A client acting for `connection`, or why there cannot be one.
    pub fn for_connection(
        &self,
        connection: &Connection,
    ) -> Result<ConstantContact, ConnectionUnusable> {
        let name = || connection.name.clone();
        match connection.health {
            Health::Healthy => {}
            Health::NotAuthenticated => {
                return Err(ConnectionUnusable::NotAuthenticated { name: name() });
            }
            Health::NeedsReauthentication => {
                return Err(ConnectionUnusable::NeedsReauthentication {
                    name: name(),
                    reason: connection
                        .health_reason
                        .clone()
                        .unwrap_or_else(|| "its refresh token was refused".to_owned()),
                });
            }
        }
        let sealed = connection
            .tokens_sealed
            .as_deref()
            .ok_or_else(|| ConnectionUnusable::NoTokens { name: name() })?;
        let tokens = self
            .owners
            .manager_for(self, connection, sealed)
            .map_err(|error| {
                tracing::error!(connection = %connection.id, error = %error.chain(), "A connection's tokens did not open.");
                ConnectionUnusable::Unopenable { name: name() }
            })?;
        Ok(ConstantContact::with_tokens(
            &self.api,
            self.http.clone(),
            tokens,
            Arc::clone(&self.budget),
        )
        .with_activity_times(Arc::clone(&self.activity_times)))
    }

    /// Forgets a removed connection's token manager.
    pub fn forget(&self, connection_id: Uuid) {
        self.owners.forget(connection_id);
    }
}
