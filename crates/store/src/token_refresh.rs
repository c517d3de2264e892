//! Refreshing a connection's tokens when several processes share the store. Constant Contact's
//! refresh tokens rotate: each is good for one refresh. So one holder at a time takes the turn
//! to refresh (a lease in the connection's row), a holder that finds a newer version than its
//! own uses that pair instead, a rotation is saved by compare-and-set on the version, and only
//! a refusal of the newest refresh token marks the connection as needing a person.

use std::time::Duration;

use chrono::Utc;
use sqlx::Row;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::to_millis;

/// A connection's tokens as a refresh sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTokens {
    pub version: i64,
    pub sealed: Option<Vec<u8>>,
}

/// Whether the turn to refresh was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshTurn {
    /// The caller holds the turn until it saves a rotation, gives up, or the lease runs out.
    Taken(StoredTokens),
    /// Another holder refreshes now; these are the tokens as they stand.
    Busy(StoredTokens),
}

impl Store {
    /// Takes the turn to refresh the connection's tokens for `holder`, for at most `lease`,
    /// unless someone else holds an unexpired turn. Either way, the tokens as they stand.
    pub async fn take_token_refresh_turn(
        &self,
        id: Uuid,
        holder: &str,
        lease: Duration,
    ) -> Result<RefreshTurn, StoreError> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let taken = sqlx::query(
            "UPDATE connections SET token_refresh_holder = $1, token_refresh_until = $2 \
             WHERE id = $3 AND (token_refresh_until IS NULL OR token_refresh_until < $4 OR token_refresh_holder = $1)",
        )
        .bind(holder)
        .bind(to_millis(until))
        .bind(id.to_string())
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        let tokens = self.stored_tokens(id).await?;
        Ok(if taken {
            RefreshTurn::Taken(tokens)
        } else {
            RefreshTurn::Busy(tokens)
        })
    }

    /// The connection's tokens and their version.
    pub async fn stored_tokens(&self, id: Uuid) -> Result<StoredTokens, StoreError> {
        let row =
            sqlx::query("SELECT tokens_version, tokens_sealed FROM connections WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| not_found(id))?;
        Ok(StoredTokens {
            version: row.try_get("tokens_version")?,
            sealed: row.try_get("tokens_sealed")?,
        })
    }

    /// Gives the turn back without a rotation (the refresh failed on the way).
    pub async fn release_token_refresh_turn(
        &self,
        id: Uuid,
        holder: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE connections SET token_refresh_holder = NULL, token_refresh_until = NULL \
             WHERE id = $1 AND token_refresh_holder = $2",
        )
        .bind(id.to_string())
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Saves the pair a refresh of version `from_version` brought, as version `from_version + 1`,
    /// and gives the turn back. Returns false, saving nothing, when the tokens are no longer at
    /// `from_version` (another holder rotated them, or an admin authenticated again).
    pub async fn rotate_connection_tokens(
        &self,
        id: Uuid,
        from_version: i64,
        tokens_sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let now = to_millis(Utc::now());
        let done = sqlx::query(
            "UPDATE connections SET tokens_sealed = $1, tokens_version = tokens_version + 1, \
             token_refresh_holder = NULL, token_refresh_until = NULL, \
             health_changed_at = CASE WHEN health = 'healthy' THEN health_changed_at ELSE $2 END, \
             health = 'healthy', health_reason = NULL, updated_at = $2 \
             WHERE id = $3 AND tokens_version = $4",
        )
        .bind(tokens_sealed.to_vec())
        .bind(now)
        .bind(id.to_string())
        .bind(from_version)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Constant Contact refused the refresh token of version `version`: the connection needs
    /// re-authentication, unless its tokens have moved on since (then nothing changes and false
    /// comes back). Gives the turn back either way.
    pub async fn mark_tokens_refused(
        &self,
        id: Uuid,
        version: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let now = to_millis(Utc::now());
        let marked = sqlx::query(
            "UPDATE connections SET \
             health_changed_at = CASE WHEN health = 'needs_reauthentication' THEN health_changed_at ELSE $1 END, \
             health = 'needs_reauthentication', health_reason = $2, updated_at = $1, \
             token_refresh_holder = NULL, token_refresh_until = NULL \
             WHERE id = $3 AND tokens_version = $4",
        )
        .bind(now)
        .bind(reason)
        .bind(id.to_string())
        .bind(version)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(marked)
    }
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        kind: "connection",
        key: id.to_string(),
    }
}
