//! Exclusions: keyed hashes of the addresses no export may ever send. The store never sees an
//! address; whoever adds or looks one up hashes it with the installation's key first.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

/// One exclusion as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The keyed hash, in hex.
    pub hash: String,
    pub added_by: Option<Uuid>,
    pub added_at: DateTime<Utc>,
}

impl Store {
    /// Adds keyed hashes (hex); returns how many were new.
    pub async fn add_exclusions(&self, hashes: &[String], by: Uuid) -> Result<u64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let now = to_millis(Utc::now());
        let mut added = 0;
        for hash in hashes {
            added += sqlx::query(
                "INSERT INTO exclusions (hash, added_by, added_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash)
            .bind(by.to_string())
            .bind(now)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        }
        transaction.commit().await?;
        Ok(added)
    }

    /// Removes keyed hashes (hex); returns how many there were.
    pub async fn remove_exclusions(&self, hashes: &[String]) -> Result<u64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let mut removed = 0;
        for hash in hashes {
            removed += sqlx::query("DELETE FROM exclusions WHERE hash = $1")
                .bind(hash)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        }
        transaction.commit().await?;
        Ok(removed)
    }

    /// Every exclusion, latest added first.
    pub async fn exclusions(&self) -> Result<Vec<Exclusion>, StoreError> {
        let rows = sqlx::query(
            "SELECT hash, added_by, added_at FROM exclusions ORDER BY added_at DESC, hash",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Exclusion {
                    hash: row.try_get("hash")?,
                    added_by: row
                        .try_get::<Option<String>, _>("added_by")?
                        .as_deref()
                        .map(parse_uuid)
                        .transpose()?,
                    added_at: from_millis(row.try_get("added_at")?),
                })
            })
            .collect()
    }

    /// Every exclusion's keyed hash (hex), for a run to check its members against.
    pub async fn exclusion_hashes(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT hash FROM exclusions")
            .fetch_all(&self.pool)
            .await?)
    }
}
