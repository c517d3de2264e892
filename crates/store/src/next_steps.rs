//! Whether a user dismissed the home page's next steps: a mark on the user, kept until the
//! user is deleted.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::to_millis;

impl Store {
    /// Marks the next steps dismissed for the user, at `at`; dismissing again keeps the first.
    pub async fn dismiss_next_steps(
        &self,
        user: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET next_steps_dismissed_at = $2 \
             WHERE id = $1 AND next_steps_dismissed_at IS NULL",
        )
        .bind(user.to_string())
        .bind(to_millis(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the user dismissed the next steps.
    pub async fn next_steps_dismissed(&self, user: Uuid) -> Result<bool, StoreError> {
        let dismissed: Option<Option<i64>> =
            sqlx::query_scalar("SELECT next_steps_dismissed_at FROM users WHERE id = $1")
                .bind(user.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(matches!(dismissed, Some(Some(_))))
    }
}
