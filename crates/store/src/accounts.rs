//! The lifecycle of accounts: disabled and enabled again, given another role or password,
//! signed out everywhere, and what has expired purged. A change that would leave no enabled
//! admin is refused inside the transaction that makes it, which first locks the enabled
//! admins, so two admins demoting each other at once cannot both succeed. A new password or a
//! sign-out everywhere ends the user's sessions and API tokens, but for the one that asked.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::database::{Backend, Store};
use crate::error::StoreError;
use crate::time::to_millis;
use crate::users::{Role, User};

impl Store {
    /// Disables or enables a user. Disabling ends every session and revokes every API token
    /// of theirs at once; it is refused for the last enabled admin.
    pub async fn set_user_disabled(&self, id: Uuid, disabled: bool) -> Result<User, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_enabled_admins(&mut transaction).await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        if disabled {
            keeps_an_admin(&mut transaction).await?;
            for table in ["sessions", "api_tokens"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                    .bind(id.to_string())
                    .execute(&mut *transaction)
                    .await?;
            }
        }
        transaction.commit().await?;
        self.user(id).await
    }

    /// Gives a user another role; refused when it would leave no enabled admin.
    pub async fn set_user_role(&self, id: Uuid, role: Role) -> Result<User, StoreError> {
        let mut transaction = self.begin_write().await?;
        self.lock_enabled_admins(&mut transaction).await?;
        let done = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        keeps_an_admin(&mut transaction).await?;
        transaction.commit().await?;
        self.user(id).await
    }

    /// Sets a user's password hash and ends their sessions and API tokens, but for `kept` (the
    /// session or token that changed it). Returns the names of the API tokens that ended.
    pub async fn set_user_password(
        &self,
        id: Uuid,
        password_hash: &str,
        kept: KeptCredential<'_>,
    ) -> Result<Vec<String>, StoreError> {
        let mut transaction = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        let (_, ended_tokens) = end_credentials(&mut transaction, id, kept).await?;
        transaction.commit().await?;
        Ok(ended_tokens)
    }

    /// Ends every session and API token of a user; returns how many sessions there were and
    /// the names of the tokens.
    pub async fn end_user_credentials(&self, id: Uuid) -> Result<(u64, Vec<String>), StoreError> {
        self.user(id).await?;
        let mut transaction = self.begin_write().await?;
        let ended = end_credentials(&mut transaction, id, KeptCredential::default()).await?;
        transaction.commit().await?;
        Ok(ended)
    }

    /// On PostgreSQL, locks the rows of the enabled admins until the transaction ends, so a
    /// concurrent change to any of them waits and then counts what this one left. SQLite's
    /// `BEGIN IMMEDIATE` already lets one writer in at a time.
    async fn lock_enabled_admins(
        &self,
        transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE role = 'admin' AND disabled = 0 FOR UPDATE")
                .execute(&mut **transaction)
                .await?;
        }
        Ok(())
    }

    /// Removes the sessions and API tokens that have expired by `now`; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut purged = 0;
        for sql in [
            "DELETE FROM sessions WHERE expires_at <= $1",
            "DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= $1",
        ] {
            purged += sqlx::query(sql)
                .bind(to_millis(now))
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(purged)
    }
}

/// The one credential a change leaves working: the session (by its token hash) or the API
/// token that made it.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeptCredential<'a> {
    pub session_hash: Option<&'a str>,
    pub api_token: Option<Uuid>,
}

/// Ends the user's sessions and API tokens but `kept`; how many sessions, and the tokens' names.
async fn end_credentials(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: Uuid,
    kept: KeptCredential<'_>,
) -> Result<(u64, Vec<String>), StoreError> {
    let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(id.to_string())
        .bind(kept.session_hash.unwrap_or(""))
        .execute(&mut **transaction)
        .await?
        .rows_affected();
    let kept_token = kept
        .api_token
        .map(|token| token.to_string())
        .unwrap_or_default();
    let tokens: Vec<String> =
        sqlx::query_scalar("DELETE FROM api_tokens WHERE user_id = $1 AND id <> $2 RETURNING name")
            .bind(id.to_string())
            .bind(kept_token)
            .fetch_all(&mut **transaction)
            .await?;
    Ok((sessions, tokens))
}

/// Refuses, inside the transaction about to commit, a change that left no enabled admin.
async fn keeps_an_admin(
    transaction: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<(), StoreError> {
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&mut **transaction)
            .await?;
    if admins == 0 {
        return Err(StoreError::LastAdmin);
    }
    Ok(())
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        kind: "user",
        key: id.to_string(),
    }
}
