//! One attempt at a password counted in the store — a sign-in's or a password change's —
//! taken before the password is checked and ended by what the check found.

use chrono::{DateTime, Duration, Utc};
use segsync_store::{AttemptsAt, PasswordAttempt, StoreError};

use crate::App;
use crate::error::{AppError, Code};

/// An attempt taken: it ends failed (the one that reaches the limit locks) or succeeded (the
/// count starts again).
pub(crate) struct StoredAttempt<'a> {
    app: &'a App,
    of: AttemptsAt<'a>,
    lock_until: DateTime<Utc>,
}

impl App {
    /// Takes an attempt at a password for `of`, or answers 429 `sign_in_locked` with
    /// `too_many` ("too many failed sign-ins") and when to try again.
    pub(crate) async fn take_password_attempt<'a>(
        &'a self,
        of: AttemptsAt<'a>,
        too_many: &str,
    ) -> Result<StoredAttempt<'a>, AppError> {
        let policy = self.sign_ins.policy();
        let now = Utc::now();
        let lock_until = now + Duration::minutes(i64::from(policy.lock_minutes));
        if let PasswordAttempt::Locked { until } = self
            .store()
            .take_attempt(of, policy.max_failures, now, lock_until)
            .await?
        {
            return Err(AppError::new(
                Code::SignInLocked,
                format!("{too_many}; try again after {}", until.format("%H:%M UTC")),
            )
            .with_retry_after((until - now).to_std().unwrap_or_default()));
        }
        Ok(StoredAttempt {
            app: self,
            of,
            lock_until,
        })
    }
}

impl StoredAttempt<'_> {
    /// The password did not match.
    pub(crate) async fn failed(self) -> Result<(), StoreError> {
        let max_attempts = self.app.sign_ins.policy().max_failures;
        self.app
            .store()
            .attempt_failed(self.of, max_attempts, self.lock_until)
            .await
    }

    /// The password matched: the attempts are forgotten.
    pub(crate) async fn succeeded(self) -> Result<(), StoreError> {
        self.app.store().clear_attempts(self.of).await
    }
}
