//! Attempts at a password, counted so that guessing stays bounded: a sign-in's per username
//! (known usernames only), a password change's per user. An attempt is taken before its
//! password is checked, so attempts in flight count as much as failures.

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};

/// Sign-in attempts of one username since its last success or lock: after too many, it is
/// locked for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Attempts taken, whether still being checked or failed.
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Whose attempts at a password are counted: a sign-in's, by username (known usernames only),
/// or a password change's, by user, each apart from the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptsAt<'a> {
    SignIn { username: &'a str },
    PasswordChange { user_id: Uuid },
}

impl AttemptsAt<'_> {
    /// The table that counts them and the key of the row.
    fn table_and_key(self) -> (&'static str, &'static str, String) {
        match self {
            Self::SignIn { username } => ("login_failures", "username", username.to_owned()),
            Self::PasswordChange { user_id } => {
                ("password_change_failures", "user_id", user_id.to_string())
            }
        }
    }
}

/// Whether an attempt may check its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordAttempt {
    Granted,
    /// Too many attempts: none is checked until then.
    Locked {
        until: DateTime<Utc>,
    },
}

async fn lock_attempts(
    transaction: &mut Transaction<'static, Any>,
    of: AttemptsAt<'_>,
    until: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (table, key_column, key) = of.table_and_key();
    sqlx::query(&format!(
        "UPDATE {table} SET failures = 0, locked_until = $2 WHERE {key_column} = $1"
    ))
    .bind(key)
    .bind(to_millis(until))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

impl Store {
    pub async fn login_throttle(&self, username: &str) -> Result<LoginThrottle, StoreError> {
        let row =
            sqlx::query("SELECT failures, locked_until FROM login_failures WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            None => LoginThrottle {
                failures: 0,
                locked_until: None,
            },
            Some(row) => {
                let locked_until: i64 = row.try_get("locked_until")?;
                LoginThrottle {
                    failures: row.try_get::<i64, _>("failures")? as u32,
                    locked_until: (locked_until > 0).then(|| from_millis(locked_until)),
                }
            }
        })
    }

    /// Takes one attempt at a password (a sign-in's, or a password change's) before the
    /// password is checked, so attempts in flight count as much as failures and a burst of
    /// guesses at once gets no more checks than `max_attempts`. Past them the username or user
    /// is locked until `lock_until`; a lock that ended starts the count again. A success clears
    /// the count ([`Store::clear_attempts`]).
    pub async fn take_attempt(
        &self,
        of: AttemptsAt<'_>,
        max_attempts: u32,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<PasswordAttempt, StoreError> {
        let (table, key_column, key) = of.table_and_key();
        let now = to_millis(now);
        // The count goes up in the statement that reads it: concurrent attempts each count,
        // and the row stays locked until the transaction ends.
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO {table} ({key_column}, failures, locked_until, last_attempt_at) VALUES ($1, 1, 0, $2) \
             ON CONFLICT ({key_column}) DO UPDATE SET \
               last_attempt_at = $2, \
               failures = CASE WHEN {table}.locked_until > $2 THEN {table}.failures \
                               WHEN {table}.locked_until > 0 THEN 1 \
                               ELSE {table}.failures + 1 END, \
               locked_until = CASE WHEN {table}.locked_until > $2 \
                                   THEN {table}.locked_until ELSE 0 END \
             RETURNING failures, locked_until"
        ))
        .bind(key)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        let attempts: i64 = row.try_get("failures")?;
        let locked_until: i64 = row.try_get("locked_until")?;
        let attempt = if locked_until > now {
            PasswordAttempt::Locked {
                until: from_millis(locked_until),
            }
        } else if attempts > i64::from(max_attempts) {
            lock_attempts(&mut transaction, of, lock_until).await?;
            PasswordAttempt::Locked { until: lock_until }
        } else {
            PasswordAttempt::Granted
        };
        transaction.commit().await?;
        Ok(attempt)
    }

    /// Ends an attempt whose password did not match: the attempt that reaches `max_attempts`
    /// locks until `lock_until`, and the count starts again.
    pub async fn attempt_failed(
        &self,
        of: AttemptsAt<'_>,
        max_attempts: u32,
        lock_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (table, key_column, key) = of.table_and_key();
        sqlx::query(&format!(
            "UPDATE {table} SET failures = 0, locked_until = $3 \
             WHERE {key_column} = $1 AND failures >= $2 AND locked_until = 0"
        ))
        .bind(key)
        .bind(i64::from(max_attempts))
        .bind(to_millis(lock_until))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets the attempts and lifts the lock: a success.
    pub async fn clear_attempts(&self, of: AttemptsAt<'_>) -> Result<(), StoreError> {
        let (table, key_column, key) = of.table_and_key();
        sqlx::query(&format!("DELETE FROM {table} WHERE {key_column} = $1"))
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets a username's sign-in attempts and lifts its lock: a successful sign-in, or an
    /// admin unlocking the user.
    pub async fn clear_login_failures(&self, username: &str) -> Result<(), StoreError> {
        self.clear_attempts(AttemptsAt::SignIn { username }).await
    }
}
