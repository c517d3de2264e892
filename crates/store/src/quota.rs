//! The request budget of each API key for each UTC day, shared by every process on the store:
//! a run reserves the requests it needs before it sends anything, and settles with what it used
//! when it ends; Constant Contact's `quota_exceeded` pauses the key until the reset.

use chrono::{DateTime, NaiveDate, Utc};

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};

/// Today's budget of one API key as the store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaDay {
    pub used: u64,
    pub reserved: u64,
    pub paused_until: Option<DateTime<Utc>>,
}

impl Store {
    async fn ensure_quota_day(&self, api_key: &str, day: NaiveDate) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_quota (api_key, day) VALUES ($1, $2) ON CONFLICT (api_key, day) DO NOTHING",
        )
        .bind(api_key)
        .bind(day.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Reserves `needed` requests of `api_key`'s budget for `day`, if used and reserved ones
    /// leave room within `limit`. Returns `Err(left)` with what is left when they do not.
    pub async fn reserve_requests(
        &self,
        api_key: &str,
        day: NaiveDate,
        needed: u64,
        limit: u64,
    ) -> Result<Result<(), u64>, StoreError> {
        self.ensure_quota_day(api_key, day).await?;
        let reserved = sqlx::query(
            "UPDATE api_quota SET reserved = reserved + $3 WHERE api_key = $1 AND day = $2 AND used + reserved + $3 <= $4",
        )
        .bind(api_key)
        .bind(day.to_string())
        .bind(needed as i64)
        .bind(limit as i64)
        .execute(&self.pool)
        .await?;
        if reserved.rows_affected() == 1 {
            return Ok(Ok(()));
        }
        let today = self.quota_day(api_key, day).await?;
        Ok(Err(limit.saturating_sub(today.used + today.reserved)))
    }

    /// A run ended: its reservation is released and the requests it used are counted.
    pub async fn settle_requests(
        &self,
        api_key: &str,
        day: NaiveDate,
        reserved: u64,
        used: u64,
    ) -> Result<(), StoreError> {
        self.ensure_quota_day(api_key, day).await?;
        sqlx::query(
            "UPDATE api_quota SET reserved = CASE WHEN reserved > $3 THEN reserved - $3 ELSE 0 END, used = used + $4 WHERE api_key = $1 AND day = $2",
        )
        .bind(api_key)
        .bind(day.to_string())
        .bind(reserved as i64)
        .bind(used as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Constant Contact said the key's quota is used up: no run of it starts before `until`.
    pub async fn pause_api_key(
        &self,
        api_key: &str,
        day: NaiveDate,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.ensure_quota_day(api_key, day).await?;
        sqlx::query("UPDATE api_quota SET paused_until = $3 WHERE api_key = $1 AND day = $2")
            .bind(api_key)
            .bind(day.to_string())
            .bind(to_millis(until))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The key's budget for `day` (zeros when nothing was recorded).
    pub async fn quota_day(&self, api_key: &str, day: NaiveDate) -> Result<QuotaDay, StoreError> {
        let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT used, reserved, paused_until FROM api_quota WHERE api_key = $1 AND day = $2",
        )
        .bind(api_key)
        .bind(day.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((used, reserved, paused_until)) => QuotaDay {
                used: used as u64,
                reserved: reserved as u64,
                paused_until: paused_until.map(from_millis),
            },
            None => QuotaDay {
                used: 0,
                reserved: 0,
                paused_until: None,
            },
        })
    }

    /// Every API key's budget for `day` that the store has a record of, by key.
    pub async fn quota_days(&self, day: NaiveDate) -> Result<Vec<(String, QuotaDay)>, StoreError> {
        let rows: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT api_key, used, reserved, paused_until FROM api_quota WHERE day = $1 ORDER BY api_key",
        )
        .bind(day.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(api_key, used, reserved, paused_until)| {
                (
                    api_key,
                    QuotaDay {
                        used: used as u64,
                        reserved: reserved as u64,
                        paused_until: paused_until.map(from_millis),
                    },
                )
            })
            .collect())
    }
}
