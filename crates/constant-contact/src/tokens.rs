//! The tokens of one connection: who holds them, when they are refreshed, and the rule that a
//! new refresh token is persisted before the new access token is used.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::oauth::OAuthClient;

/// Access tokens are refreshed this long before they expire, so none dies in flight.
const REFRESH_AHEAD: chrono::Duration = chrono::Duration::minutes(5);

/// The tokens of one Constant Contact connection.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// Absent when the grant did not include `offline_access`.
    pub refresh_token: Option<SecretString>,
    pub expires_at: DateTime<Utc>,
    pub scope: Option<String>,
}

impl TokenSet {
    fn is_due_for_refresh(&self, now: DateTime<Utc>) -> bool {
        now + REFRESH_AHEAD >= self.expires_at
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where a connection's tokens are kept between processes (an encrypted row of the store, a
/// file for the command line). With rotating refresh tokens every refresh kills the previous
/// refresh token, so `save` must have made the new one durable before it returns.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn save(&self, tokens: &TokenSet) -> Result<(), BoxError>;
}

/// Keeps tokens in memory only; for tests and one-shot commands.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    saved: std::sync::Mutex<Vec<TokenSet>>,
}

impl MemoryTokenStore {
    /// Every token set saved so far, oldest first.
    pub fn saved(&self) -> Vec<TokenSet> {
        self.saved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn save(&self, tokens: &TokenSet) -> Result<(), BoxError> {
        self.saved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(tokens.clone());
        Ok(())
    }
}

/// Hands out the access token of one connection and refreshes it, one refresh at a time.
pub struct TokenManager {
    oauth: OAuthClient,
    store: Arc<dyn TokenStore>,
    /// Held across a refresh, so concurrent callers wait for its result instead of spending the
    /// same rotating refresh token twice.
    current: tokio::sync::Mutex<TokenSet>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager").finish_non_exhaustive()
    }
}

impl TokenManager {
    pub fn new(oauth: OAuthClient, store: Arc<dyn TokenStore>, tokens: TokenSet) -> Self {
        Self {
            oauth,
            store,
            current: tokio::sync::Mutex::new(tokens),
        }
    }

    /// A valid access token, refreshed first when it is about to expire.
    pub async fn access_token(&self) -> Result<SecretString> {
        let mut tokens = self.current.lock().await;
        if tokens.is_due_for_refresh(Utc::now()) {
            self.refresh_locked(&mut tokens).await?;
        }
        Ok(tokens.access_token.clone())
    }

    /// Constant Contact refused `rejected`. Refreshes unless another caller already replaced
    /// that token while this one was in flight.
    pub async fn refresh_rejected(&self, rejected: &SecretString) -> Result<()> {
        let mut tokens = self.current.lock().await;
        if tokens.access_token.expose_secret() != rejected.expose_secret() {
            return Ok(());
        }
        self.refresh_locked(&mut tokens).await
    }

    /// Refreshes now, whatever the expiry says.
    pub async fn force_refresh(&self) -> Result<()> {
        let mut tokens = self.current.lock().await;
        self.refresh_locked(&mut tokens).await
    }

    async fn refresh_locked(&self, tokens: &mut TokenSet) -> Result<()> {
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return Err(Error::ReauthenticationRequired {
                description: "the access token expired and there is no refresh token".to_owned(),
            });
        };
        let refreshed = self.oauth.refresh(&refresh_token).await?;
        // From here the old refresh token is dead. The new one must be durable before anything
        // uses the new access token; if it cannot be saved, the connection needs a person.
        self.store
            .save(&refreshed)
            .await
            .map_err(Error::TokenStore)?;
        tracing::info!(expires_at = %refreshed.expires_at, "Access token refreshed.");
        *tokens = refreshed;
        Ok(())
    }
}
