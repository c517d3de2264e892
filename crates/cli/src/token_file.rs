//! Tokens of the command line's connection, kept in a file readable by its owner only. Each
//! save replaces the file atomically, so a crash never leaves half a refresh token behind.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use constant_contact::{TokenSet, TokenStore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: DateTime<Utc>,
    scope: Option<String>,
    #[serde(default)]
    obtained_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    pub(crate) fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub(crate) fn load(&self) -> anyhow::Result<Option<TokenSet>> {
        if !self.path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&self.path)?;
        let stored: StoredTokens = serde_json::from_str(&text)?;
        Ok(Some(TokenSet {
            access_token: SecretString::from(stored.access_token),
            refresh_token: stored.refresh_token.map(SecretString::from),
            expires_at: stored.expires_at,
            scope: stored.scope,
            obtained_at: stored.obtained_at,
        }))
    }

    pub(crate) fn write(&self, tokens: &TokenSet) -> std::io::Result<()> {
        let stored = StoredTokens {
            access_token: tokens.access_token.expose_secret().to_owned(),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|token| token.expose_secret().to_owned()),
            expires_at: tokens.expires_at,
            scope: tokens.scope.clone(),
            obtained_at: tokens.obtained_at,
        };
        let json = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
        write_private(&self.path, &json)
    }
}

#[async_trait::async_trait]
impl TokenStore for TokenFile {
    async fn save(
        &self,
        tokens: &TokenSet,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.write(tokens)?)
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}
