//! A connection's Constant Contact tokens: sealed into the store, opened for a run, and saved
//! again, sealed, every time a refresh rotates them; and the one token manager per connection
//! that every caller in the process shares.

use segsync_domain::ChainExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use constant_contact::{RefreshTurn, TokenManager, TokenSet, TokenStore};
use secrecy::{ExposeSecret, SecretString};
use segsync_store::{Connection, RefreshTurn as StoreTurn, Store, StoredTokens};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Clients;
use super::sealer::{OpenError, Sealer};

/// The tokens as they are sealed: JSON, only ever inside the ciphertext.
#[derive(Serialize, Deserialize)]
struct SealedTokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: DateTime<Utc>,
    scope: Option<String>,
    #[serde(default)]
    obtained_at: Option<DateTime<Utc>>,
}

/// What a connection's sealed tokens are bound to.
fn context(connection_id: Uuid) -> String {
    format!("connection-tokens:{connection_id}")
}

pub fn seal_tokens(sealer: &Sealer, connection_id: Uuid, tokens: &TokenSet) -> Vec<u8> {
    let plain = SealedTokens {
        access_token: tokens.access_token.expose_secret().to_owned(),
        refresh_token: tokens
            .refresh_token
            .as_ref()
            .map(|token| token.expose_secret().to_owned()),
        expires_at: tokens.expires_at,
        scope: tokens.scope.clone(),
        obtained_at: tokens.obtained_at,
    };
    let json = serde_json::to_vec(&plain).expect("tokens serialise");
    sealer.seal(&json, &context(connection_id))
}

pub(crate) fn open_tokens(
    sealer: &Sealer,
    connection_id: Uuid,
    sealed: &[u8],
) -> Result<TokenSet, OpenError> {
    let json = sealer.open(sealed, &context(connection_id))?;
    let plain: SealedTokens = serde_json::from_slice(&json).map_err(|_| OpenError)?;
    Ok(TokenSet {
        access_token: SecretString::from(plain.access_token),
        refresh_token: plain.refresh_token.map(SecretString::from),
        expires_at: plain.expires_at,
        scope: plain.scope,
        obtained_at: plain.obtained_at,
    })
}

/// How long a node may hold the turn to refresh a connection's tokens before another takes
/// it: longer than a refresh request can take.
const REFRESH_LEASE: Duration = Duration::from_secs(60);

/// How often a node waiting for another's refresh looks whether it is done.
const REFRESH_WAIT: Duration = Duration::from_millis(100);

/// One connection's tokens in the store, for the one token manager this process keeps for it:
/// refreshes are taken in turn with the other processes on the store, and a rotation is saved
/// only over the version it was made from.
pub(crate) struct ConnectionTokenStore {
    store: Store,
    sealer: Arc<Sealer>,
    connection_id: Uuid,
    /// Names this manager in the refresh lease; unique even within a process.
    holder: String,
    /// The version of the tokens the manager holds.
    held_version: AtomicI64,
}

impl ConnectionTokenStore {
    pub(crate) fn new(
        store: Store,
        sealer: Arc<Sealer>,
        connection_id: Uuid,
        node_id: &str,
        held_version: i64,
    ) -> Self {
        Self {
            store,
            sealer,
            connection_id,
            holder: format!("{node_id}/{}", Uuid::new_v4()),
            held_version: AtomicI64::new(held_version),
        }
    }

    pub(crate) fn held_version(&self) -> i64 {
        self.held_version.load(Ordering::SeqCst)
    }

    /// The stored pair, which is newer than the held one, now held.
    fn adopt(&self, stored: &StoredTokens) -> Result<TokenSet, TokenStoreError> {
        let sealed = stored.sealed.as_deref().ok_or(TokenStoreError::Removed)?;
        let tokens = open_tokens(&self.sealer, self.connection_id, sealed)
            .map_err(|OpenError| TokenStoreError::Unopenable)?;
        self.held_version.store(stored.version, Ordering::SeqCst);
        Ok(tokens)
    }

    async fn release_turn(&self) {
        if let Err(error) = self
            .store
            .release_token_refresh_turn(self.connection_id, &self.holder)
            .await
        {
            tracing::warn!(connection = %self.connection_id, error = %error.chain(), "The turn to refresh could not be given back; it lapses by itself.");
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong with a connection's tokens in the store, besides the store itself.
#[derive(Debug, thiserror::Error)]
enum TokenStoreError {
    #[error("the connection's tokens were removed")]
    Removed,
    #[error("the connection's tokens could not be opened with the configured keys")]
    Unopenable,
    #[error(
        "the connection's tokens changed in the store during the refresh (authenticated again, or rotated by another node after this one's turn lapsed)"
    )]
    ChangedDuringRefresh,
}

#[async_trait::async_trait]
impl TokenStore for ConnectionTokenStore {
    async fn begin_refresh(&self) -> Result<RefreshTurn, BoxError> {
        loop {
            let turn = self
                .store
                .take_token_refresh_turn(self.connection_id, &self.holder, REFRESH_LEASE)
                .await?;
            let (taken, stored) = match turn {
                StoreTurn::Taken(stored) => (true, stored),
                StoreTurn::Busy(stored) => (false, stored),
            };
            if stored.version > self.held_version() {
                if taken {
                    self.release_turn().await;
                }
                return Ok(RefreshTurn::Rotated(self.adopt(&stored)?));
            }
            if taken {
                return Ok(RefreshTurn::Mine);
            }
            // Another node refreshes: its pair will be saved in a moment, or its turn lapses.
            tokio::time::sleep(REFRESH_WAIT).await;
        }
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), BoxError> {
        let sealed = seal_tokens(&self.sealer, self.connection_id, tokens);
        let from_version = self.held_version();
        if self
            .store
            .rotate_connection_tokens(self.connection_id, from_version, &sealed)
            .await?
        {
            self.held_version.store(from_version + 1, Ordering::SeqCst);
            Ok(())
        } else {
            self.release_turn().await;
            Err(TokenStoreError::ChangedDuringRefresh.into())
        }
    }

    async fn refused(&self, description: &str) -> Result<Option<TokenSet>, BoxError> {
        let reason = format!("Constant Contact refused the refresh token: {description}");
        loop {
            let held = self.held_version();
            let stored = self.store.stored_tokens(self.connection_id).await?;
            if stored.version > held {
                self.release_turn().await;
                return Ok(Some(self.adopt(&stored)?));
            }
            // Only a refusal of the newest refresh token says the connection needs a person.
            if self
                .store
                .mark_tokens_refused(self.connection_id, held, &reason)
                .await?
            {
                tracing::warn!(connection = %self.connection_id, %reason, "The connection needs re-authentication.");
                return Ok(None);
            }
        }
    }

    async fn abandon_refresh(&self) {
        self.release_turn().await;
    }
}

/// The one token manager of each connection in this process, shared by its runs, list
/// look-ups, export saves and dry runs, so that a rotating refresh token is spent once.
#[derive(Default)]
pub(crate) struct TokenOwners {
    owners: Mutex<HashMap<Uuid, TokenOwner>>,
}

struct TokenOwner {
    manager: Arc<TokenManager>,
    store: Arc<ConnectionTokenStore>,
}

impl TokenOwners {
    /// The manager of `connection`'s tokens, made from the row when this process has none or
    /// holds an older version than the row (an admin authenticated again, another node
    /// rotated them).
    pub(crate) fn manager_for(
        &self,
        clients: &Clients,
        connection: &Connection,
        sealed: &[u8],
    ) -> Result<Arc<TokenManager>, OpenError> {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(owner) = owners.get(&connection.id)
            && owner.store.held_version() >= connection.tokens_version
        {
            return Ok(Arc::clone(&owner.manager));
        }
        let tokens = open_tokens(&clients.sealer, connection.id, sealed)?;
        let store = Arc::new(ConnectionTokenStore::new(
            clients.store.clone(),
            Arc::clone(&clients.sealer),
            connection.id,
            &clients.node_id,
            connection.tokens_version,
        ));
        let oauth = clients.oauth();
        let manager = Arc::new(TokenManager::new(
            oauth,
            Arc::clone(&store) as Arc<dyn TokenStore>,
            tokens,
        ));
        owners.insert(
            connection.id,
            TokenOwner {
                manager: Arc::clone(&manager),
                store,
            },
        );
        Ok(manager)
    }

    /// Forgets a removed connection's manager.
    pub(crate) fn forget(&self, connection_id: Uuid) {
        self.owners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&connection_id);
    }
}
