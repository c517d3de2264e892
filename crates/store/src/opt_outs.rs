//! Opt-outs brought home: the contacts Constant Contact says unsubscribed, per connection, with
//! the watermark the next poll starts from. No export of the connection sends them again, and
//! they are written back to the customer data once, when the installation says where.

use chrono::Utc;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

/// One contact who opted out, as Constant Contact told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    pub connection_id: Uuid,
    /// The email as Constant Contact holds it.
    pub email: String,
    /// segsync's 64-bit key of the normalised email (the ledger's), stored as given.
    pub email_key: u64,
    pub contact_id: Option<Uuid>,
    /// When it opted out, as Constant Contact says (ISO-8601).
    pub opted_out_at: Option<String>,
    /// `Contact` (the person) or `Account` (the account's owner).
    pub opt_out_source: Option<String>,
    pub reason: Option<String>,
    pub learned_at: chrono::DateTime<Utc>,
}

pub(crate) fn opt_out_from_row(row: &AnyRow) -> Result<OptOut, StoreError> {
    Ok(OptOut {
        connection_id: parse_uuid(&row.try_get::<String, _>("connection_id")?)?,
        email: row.try_get("email")?,
        email_key: row.try_get::<i64, _>("email_key")? as u64,
        contact_id: row
            .try_get::<Option<String>, _>("contact_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        opted_out_at: row.try_get("opted_out_at")?,
        opt_out_source: row.try_get("opt_out_source")?,
        reason: row.try_get("reason")?,
        learned_at: from_millis(row.try_get("learned_at")?),
    })
}

pub(crate) const COLUMNS: &str =
    "connection_id, email, email_key, contact_id, opted_out_at, opt_out_source, reason, learned_at";

impl Store {
    /// Where the next poll of the connection's opt-outs starts: Constant Contact's `updated_at`
    /// of the latest one learned; none before the first poll.
    pub async fn opt_outs_watermark(
        &self,
        connection_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT opt_outs_watermark FROM connections WHERE id = $1")
                .bind(connection_id.to_string())
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    /// Keeps the opt-outs a poll learned (those already known stay as they were) and moves the
    /// connection's watermark to `watermark`, in one transaction. Returns how many were new.
    pub async fn record_opt_outs(
        &self,
        connection_id: Uuid,
        opt_outs: &[OptOut],
        watermark: Option<&str>,
    ) -> Result<u64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let mut new = 0;
        let now = to_millis(Utc::now());
        for opt_out in opt_outs {
            let done = sqlx::query(
                "INSERT INTO opt_outs (connection_id, email_key, email, contact_id, opted_out_at, opt_out_source, reason, learned_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (connection_id, email_key) DO NOTHING",
            )
            .bind(connection_id.to_string())
            .bind(opt_out.email_key as i64)
            .bind(&opt_out.email)
            .bind(opt_out.contact_id.map(|id| id.to_string()))
            .bind(&opt_out.opted_out_at)
            .bind(&opt_out.opt_out_source)
            .bind(&opt_out.reason)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
            new += done.rows_affected();
        }
        if let Some(watermark) = watermark {
            sqlx::query("UPDATE connections SET opt_outs_watermark = $1 WHERE id = $2")
                .bind(watermark)
                .bind(connection_id.to_string())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(new)
    }

    /// The keys of every opt-out of the connection the export sends through.
    pub async fn opt_out_keys_of_export(&self, export_id: Uuid) -> Result<Vec<u64>, StoreError> {
        let keys: Vec<i64> = sqlx::query_scalar(
            "SELECT o.email_key FROM opt_outs o JOIN exports e ON e.connection_id = o.connection_id WHERE e.id = $1",
        )
        .bind(export_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(keys.into_iter().map(|key| key as u64).collect())
    }

    /// The connection's opt-outs, latest learned first.
    pub async fn opt_outs(&self, connection_id: Uuid) -> Result<Vec<OptOut>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM opt_outs WHERE connection_id = $1 ORDER BY learned_at DESC, email"
        ))
        .bind(connection_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(opt_out_from_row).collect()
    }

    /// Opt-outs not yet written back to the customer data, oldest first, at most `limit`.
    pub async fn opt_outs_to_write_back(&self, limit: u32) -> Result<Vec<OptOut>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM opt_outs WHERE written_back_at IS NULL ORDER BY learned_at, email LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(opt_out_from_row).collect()
    }

    /// Marks opt-outs as written back.
    pub async fn opt_outs_written_back(&self, written: &[OptOut]) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let now = to_millis(Utc::now());
        for opt_out in written {
            sqlx::query(
                "UPDATE opt_outs SET written_back_at = $1 WHERE connection_id = $2 AND email_key = $3",
            )
            .bind(now)
            .bind(opt_out.connection_id.to_string())
            .bind(opt_out.email_key as i64)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }
}
