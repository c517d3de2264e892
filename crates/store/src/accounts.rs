//! The lifecycle of accounts: disabled and enabled again, given another role or password,
//! signed out everywhere, and what has expired purged. A change that would leave no enabled
//! admin is refused inside the transaction that makes it, so two admins demoting each other at
//! once cannot both succeed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::to_millis;
use crate::users::{Role, User};

impl Store {
    /// Disables or enables a user. Disabling ends every session and revokes every API token
    /// of theirs at once; it is refused for the last enabled admin.
    pub async fn set_user_disabled(&self, id: Uuid, disabled: bool) -> Result<User, StoreError> {
        let mut transaction = self.begin_write().await?;
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

    /// Sets a user's password hash and ends their sessions, but for `keep` (the session that
    /// changed it, by its token hash).
    pub async fn set_user_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(id.to_string())
            .bind(keep.unwrap_or(""))
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Ends every session of a user; returns how many there were.
    pub async fn end_user_sessions(&self, id: Uuid) -> Result<u64, StoreError> {
        self.user(id).await?;
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
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
