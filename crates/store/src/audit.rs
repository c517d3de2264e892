//! The audit log: who created, changed, ran or removed what, and when. Entries are only ever
//! appended.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub actor_id: Option<Uuid>,
    /// What was done: `created`, `changed`, `ran`, `removed`, …
    pub action: &'a str,
    /// What kind of thing it was done to: `connection`, `export`, …
    pub object_kind: &'a str,
    pub object_id: &'a str,
    pub object_name: &'a str,
    pub detail: Option<serde_json::Value>,
}

/// Which entries to read: each part left empty matches every entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Entries of this user's doing.
    pub actor_id: Option<Uuid>,
    /// Entries of this action: `created`, `changed`, `ran`, …
    pub action: Option<String>,
    /// Entries about this kind of thing: `export`, `user`, …
    pub object_kind: Option<String>,
    /// Entries at or after this moment.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this moment.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub object_name: String,
    pub detail: Option<serde_json::Value>,
}

impl Store {
    pub async fn audit(&self, entry: NewAuditEntry<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, action, object_kind, object_id, object_name, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(to_millis(Utc::now()))
        .bind(entry.actor_id.map(|id| id.to_string()))
        .bind(entry.action)
        .bind(entry.object_kind)
        .bind(entry.object_id)
        .bind(entry.object_name)
        .bind(entry.detail.map(|detail| detail.to_string()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The entries `filter` matches, newest first: `limit` of them from before the entry
    /// `before` (for paging).
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        // An empty text matches every entry, so that one statement serves every filter.
        let rows = sqlx::query(
            "SELECT id, at, actor_id, action, object_kind, object_id, object_name, detail FROM audit_log \
             WHERE id < $1 AND ($3 = '' OR actor_id = $3) AND ($4 = '' OR action = $4) \
             AND ($5 = '' OR object_kind = $5) AND at >= $6 AND at < $7 \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .bind(filter.actor_id.map(|id| id.to_string()).unwrap_or_default())
        .bind(filter.action.clone().unwrap_or_default())
        .bind(filter.object_kind.clone().unwrap_or_default())
        .bind(filter.since.map_or(i64::MIN, to_millis))
        .bind(filter.until.map_or(i64::MAX, to_millis))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let detail: Option<String> = row.try_get("detail")?;
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: from_millis(row.try_get("at")?),
                    actor_id: row
                        .try_get::<Option<String>, _>("actor_id")?
                        .as_deref()
                        .map(parse_uuid)
                        .transpose()?,
                    action: row.try_get("action")?,
                    object_kind: row.try_get("object_kind")?,
                    object_id: row.try_get("object_id")?,
                    object_name: row.try_get("object_name")?,
                    detail: detail
                        .map(|text| serde_json::from_str(&text))
                        .transpose()
                        .map_err(|error| {
                            StoreError::Corrupt(format!("an audit entry's detail: {error}"))
                        })?,
                })
            })
            .collect()
    }

    /// Every action and every kind of thing the log holds, each sorted: what a filter can ask
    /// for.
    pub async fn audit_vocabulary(&self) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let actions = sqlx::query_scalar("SELECT DISTINCT action FROM audit_log ORDER BY action")
            .fetch_all(&self.pool)
            .await?;
        let kinds =
            sqlx::query_scalar("SELECT DISTINCT object_kind FROM audit_log ORDER BY object_kind")
                .fetch_all(&self.pool)
                .await?;
        Ok((actions, kinds))
    }
}
