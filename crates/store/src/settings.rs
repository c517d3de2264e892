//! Settings of the whole installation, such as the refresh schedule: a JSON value per key.

use crate::database::Store;
use crate::error::StoreError;

impl Store {
    /// The value stored under `key`, if any.
    pub async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        text.map(|text| {
            serde_json::from_str(&text)
                .map_err(|error| StoreError::Corrupt(format!("setting {key}: {error}")))
        })
        .transpose()
    }

    pub async fn set_setting(
        &self,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets `key` to `new` only if it still holds `expected` (nothing, for `None`): of several
    /// processes doing the same, exactly one succeeds. Returns whether this one did.
    pub async fn replace_setting(
        &self,
        key: &str,
        expected: Option<&serde_json::Value>,
        new: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let done = match expected {
            None => sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(new.to_string())
            .execute(&self.pool)
            .await?,
            Some(expected) => {
                sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
                    .bind(new.to_string())
                    .bind(key)
                    .bind(expected.to_string())
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(done.rows_affected() == 1)
    }
}
