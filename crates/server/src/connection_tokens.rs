//! A connection's Constant Contact tokens: sealed into the store, opened for a run, and saved
//! again, sealed, every time a refresh rotates them.

use chrono::{DateTime, Utc};
use constant_contact::{TokenSet, TokenStore};
use secrecy::{ExposeSecret, SecretString};
use segsync_store::Store;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::{OpenError, Sealer};

/// The tokens as they are sealed: JSON, only ever inside the ciphertext.
#[derive(Serialize, Deserialize)]
struct SealedTokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: DateTime<Utc>,
    scope: Option<String>,
}

/// What a connection's sealed tokens are bound to.
fn context(connection_id: Uuid) -> String {
    format!("connection-tokens:{connection_id}")
}

pub(crate) fn seal_tokens(sealer: &Sealer, connection_id: Uuid, tokens: &TokenSet) -> Vec<u8> {
    let plain = SealedTokens {
        access_token: tokens.access_token.expose_secret().to_owned(),
        refresh_token: tokens
            .refresh_token
            .as_ref()
            .map(|token| token.expose_secret().to_owned()),
        expires_at: tokens.expires_at,
        scope: tokens.scope.clone(),
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
    })
}

/// Saves rotated tokens of one connection, sealed, before the client uses them.
pub(crate) struct ConnectionTokenStore {
    pub(crate) store: Store,
    pub(crate) sealer: std::sync::Arc<Sealer>,
    pub(crate) connection_id: Uuid,
}

#[async_trait::async_trait]
impl TokenStore for ConnectionTokenStore {
    async fn save(
        &self,
        tokens: &TokenSet,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let sealed = seal_tokens(&self.sealer, self.connection_id, tokens);
        self.store
            .set_connection_tokens(self.connection_id, &sealed)
            .await?;
        Ok(())
    }
}
