//! The tokens of one connection: who holds them, when they are refreshed, and the rule that a
//! new refresh token is persisted before the new access token is used.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::oauth::OAuthClient;

/// Access tokens are refreshed this long before they expire, so none dies in flight; a token
/// that lives less than four times this is refreshed once three quarters of its life are gone.
const REFRESH_AHEAD: chrono::Duration = chrono::Duration::minutes(5);

/// The tokens of one Constant Contact connection.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// Absent when the grant did not include `offline_access`.
    pub refresh_token: Option<SecretString>,
    pub expires_at: DateTime<Utc>,
    pub scope: Option<String>,
    /// When the access token was issued, when known: short-lived tokens are refreshed in
    /// proportion to their life.
    pub obtained_at: Option<DateTime<Utc>>,
}

impl TokenSet {
    fn is_due_for_refresh(&self, now: DateTime<Utc>) -> bool {
        let ahead = match self.obtained_at {
            Some(obtained_at) => REFRESH_AHEAD.min((self.expires_at - obtained_at) / 4),
            None => REFRESH_AHEAD,
        };
        now + ahead >= self.expires_at
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whose turn it is to refresh, as [`TokenStore::begin_refresh`] answers.
pub enum RefreshTurn {
    /// This holder refreshes; the store keeps the turn for it until `save`, `refused` or
    /// `abandon_refresh`.
    Mine,
    /// Another holder (another process on the same store) rotated the tokens since this one
    /// last saw them: these are the newest, to be used instead of refreshing.
    Rotated(TokenSet),
}

/// Where a connection's tokens are kept between processes (an encrypted row of the store, a
/// file for the command line). With rotating refresh tokens every refresh kills the previous
/// refresh token, so `save` must have made the new one durable before it returns. A store
/// shared by several processes also coordinates them: one refreshes at a time, and the others
/// take the pair it saved.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Called before every refresh. A store of one process has nothing to coordinate.
    async fn begin_refresh(&self) -> Result<RefreshTurn, BoxError> {
        Ok(RefreshTurn::Mine)
    }

    /// The pair a refresh brought; the old refresh token is dead from now on.
    async fn save(&self, tokens: &TokenSet) -> Result<(), BoxError>;

    /// Constant Contact refused the refresh token this holder has (`description` says why).
    /// A shared store answers with a newer pair when another holder rotated it meanwhile;
    /// otherwise it records that the connection needs a person and answers `None`.
    async fn refused(&self, description: &str) -> Result<Option<TokenSet>, BoxError> {
        let _ = description;
        Ok(None)
    }

    /// The refresh failed for another reason (Constant Contact unreachable): the turn is given
    /// back, nothing changed.
    async fn abandon_refresh(&self) {}
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
        let now = Utc::now();
        if tokens.is_due_for_refresh(now) {
            self.refresh_locked(&mut tokens, |tokens| tokens.is_due_for_refresh(now))
                .await?;
        }
        Ok(tokens.access_token.clone())
    }

    /// Constant Contact refused `rejected`. Refreshes unless another caller already replaced
    /// that token while this one was in flight.
    pub async fn refresh_rejected(&self, rejected: &SecretString) -> Result<()> {
        let mut tokens = self.current.lock().await;
        let still_rejected =
            |tokens: &TokenSet| tokens.access_token.expose_secret() == rejected.expose_secret();
        if !still_rejected(&tokens) {
            return Ok(());
        }
        self.refresh_locked(&mut tokens, still_rejected).await
    }

    /// Refreshes now, whatever the expiry says (a pair another process rotated counts).
    pub async fn force_refresh(&self) -> Result<()> {
        let mut tokens = self.current.lock().await;
        let held = tokens.access_token.expose_secret().to_owned();
        self.refresh_locked(&mut tokens, |tokens| {
            tokens.access_token.expose_secret() == held
        })
        .await
    }

    /// Replaces `tokens` by a newer pair: another holder's if the store has one that `needed`
    /// no longer asks to refresh, else one from Constant Contact.
    async fn refresh_locked(
        &self,
        tokens: &mut TokenSet,
        needed: impl Fn(&TokenSet) -> bool,
    ) -> Result<()> {
        // A pair another holder rotated long ago may be due again: then it is this one's turn.
        while let RefreshTurn::Rotated(newer) = self
            .store
            .begin_refresh()
            .await
            .map_err(Error::TokenStore)?
        {
            let enough = !needed(&newer);
            *tokens = newer;
            if enough {
                tracing::debug!("Tokens another holder rotated are used.");
                return Ok(());
            }
        }
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            let description = "the access token expired and there is no refresh token";
            return self.refused(tokens, description).await;
        };
        let refreshed = match self.oauth.refresh(&refresh_token).await {
            Ok(refreshed) => refreshed,
            Err(Error::ReauthenticationRequired { description }) => {
                return self.refused(tokens, &description).await;
            }
            Err(error) => {
                self.store.abandon_refresh().await;
                return Err(error);
            }
        };
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

    /// Constant Contact refused the refresh token: a newer pair from the store if another
    /// holder rotated it meanwhile, else the connection needs re-authentication.
    async fn refused(&self, tokens: &mut TokenSet, description: &str) -> Result<()> {
        match self
            .store
            .refused(description)
            .await
            .map_err(Error::TokenStore)?
        {
            Some(newer) => {
                tracing::info!(
                    "A refresh token was refused after another process rotated it; its pair is used."
                );
                *tokens = newer;
                Ok(())
            }
            None => Err(Error::ReauthenticationRequired {
                description: description.to_owned(),
            }),
        }
    }
}
