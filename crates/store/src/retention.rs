//! Retention: what the store holds that ages out, and the purges that remove it in small
//! transactions (each deletes or rewrites at most a batch, so runs writing beside them never
//! wait long).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::Row;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};

/// How much of what ages out the store holds, and since when.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HeldData {
    pub runs: u64,
    pub oldest_run_at: Option<DateTime<Utc>>,
    /// Ended runs whose samples and skipped members are still kept.
    pub runs_with_details: u64,
    pub oldest_details_at: Option<DateTime<Utc>>,
    pub skipped_entries: u64,
    pub audit_entries: u64,
    pub oldest_audit_at: Option<DateTime<Utc>>,
    pub sign_in_failures: u64,
    pub ledger_members: u64,
    pub opt_outs: u64,
    pub exclusions: u64,
    pub tombstones: u64,
    pub erasures: u64,
}

/// Empties every field named `…samples` in a report or guard (JSON), wherever it is nested;
/// none when there was none to empty.
pub fn without_samples(text: &str) -> Option<String> {
    fn empty(value: &mut Value) -> bool {
        let mut changed = false;
        match value {
            Value::Object(fields) => {
                for (name, field) in fields.iter_mut() {
                    if name.ends_with("samples") {
                        let emptied = match field {
                            Value::Array(items) if !items.is_empty() => {
                                Some(Value::Array(Vec::new()))
                            }
                            Value::Object(items) if !items.is_empty() => {
                                Some(Value::Object(serde_json::Map::new()))
                            }
                            _ => None,
                        };
                        if let Some(emptied) = emptied {
                            *field = emptied;
                            changed = true;
                        }
                    } else {
                        changed |= empty(field);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    changed |= empty(item);
                }
            }
            _ => {}
        }
        changed
    }
    let mut value: Value = serde_json::from_str(text).ok()?;
    empty(&mut value).then(|| value.to_string())
}

async fn count(store: &Store, query: &str) -> Result<u64, StoreError> {
    let count: i64 = sqlx::query_scalar(query).fetch_one(&store.pool).await?;
    Ok(count as u64)
}

impl Store {
    /// What the store holds that ages out.
    pub async fn held_data(&self) -> Result<HeldData, StoreError> {
        let oldest = |query: &'static str| async move {
            let at: Option<i64> = sqlx::query_scalar(query).fetch_one(&self.pool).await?;
            Ok::<_, StoreError>(at.map(from_millis))
        };
        Ok(HeldData {
            runs: count(self, "SELECT COUNT(*) FROM runs").await?,
            oldest_run_at: oldest("SELECT MIN(queued_at) FROM runs").await?,
            runs_with_details: count(
                self,
                "SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL AND details_purged_at IS NULL",
            )
            .await?,
            oldest_details_at: oldest(
                "SELECT MIN(finished_at) FROM runs WHERE finished_at IS NOT NULL AND details_purged_at IS NULL",
            )
            .await?,
            skipped_entries: count(self, "SELECT COUNT(*) FROM run_skips").await?,
            audit_entries: count(self, "SELECT COUNT(*) FROM audit_log").await?,
            oldest_audit_at: oldest("SELECT MIN(at) FROM audit_log").await?,
            sign_in_failures: count(self, "SELECT COUNT(*) FROM login_failures").await?,
            ledger_members: count(self, "SELECT COUNT(*) FROM export_members").await?,
            opt_outs: count(self, "SELECT COUNT(*) FROM opt_outs").await?,
            exclusions: count(self, "SELECT COUNT(*) FROM exclusions").await?,
            tombstones: count(self, "SELECT COUNT(*) FROM tombstones").await?,
            erasures: count(self, "SELECT COUNT(*) FROM erasures").await?,
        })
    }

    /// Purges the details of at most `batch` runs that ended before `before`: their skipped
    /// members are deleted and their reports' and guards' samples emptied. Returns how many
    /// runs it purged (0: none are left).
    pub async fn purge_run_details(
        &self,
        before: DateTime<Utc>,
        batch: u32,
    ) -> Result<u64, StoreError> {
        let mut transaction = self.begin_write().await?;
        let runs = sqlx::query(
            "SELECT id, report, guard FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1 AND details_purged_at IS NULL ORDER BY finished_at LIMIT $2",
        )
        .bind(to_millis(before))
        .bind(i64::from(batch))
        .fetch_all(&mut *transaction)
        .await?;
        let now = to_millis(Utc::now());
        for run in &runs {
            let id: String = run.try_get("id")?;
            let report: Option<String> = run.try_get("report")?;
            let guard: Option<String> = run.try_get("guard")?;
            let report = report
                .as_deref()
                .map(|text| without_samples(text).unwrap_or(text.to_owned()));
            let guard = guard
                .as_deref()
                .map(|text| without_samples(text).unwrap_or(text.to_owned()));
            sqlx::query("DELETE FROM run_skips WHERE run_id = $1")
                .bind(&id)
                .execute(&mut *transaction)
                .await?;
            sqlx::query(
                "UPDATE runs SET report = $1, guard = $2, details_purged_at = $3 WHERE id = $4",
            )
            .bind(report)
            .bind(guard)
            .bind(now)
            .bind(&id)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(runs.len() as u64)
    }

    /// Deletes at most `batch` runs that ended before `before`, with their batches and skipped
    /// members. Returns how many (0: none are left).
    pub async fn purge_runs(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1 ORDER BY finished_at LIMIT $2)",
        )
        .bind(to_millis(before))
        .bind(i64::from(batch))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Deletes at most `batch` audit entries made before `before`. Returns how many.
    pub async fn purge_audit(&self, before: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)",
        )
        .bind(to_millis(before))
        .bind(i64::from(batch))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Forgets password attempts last made before `before` whose lock (if any) has ended by
    /// `now`. Returns how many.
    pub async fn purge_sign_in_failures(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut purged = 0;
        for table in ["login_failures", "password_change_failures"] {
            purged += sqlx::query(&format!(
                "DELETE FROM {table} WHERE last_attempt_at < $1 AND locked_until <= $2"
            ))
            .bind(to_millis(before))
            .bind(to_millis(now))
            .execute(&self.pool)
            .await?
            .rows_affected();
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_emptied_wherever_they_are_nested_and_nothing_else_changes() {
        let report = r#"{"sent":3,"invalid_samples":{"bad":["x"]},"sync":{"removal_samples":["a@b.c"],"removed":1},"excluded_samples":[]}"#;
        let purged: Value = serde_json::from_str(&without_samples(report).unwrap()).unwrap();
        assert_eq!(purged["sent"], 3);
        assert_eq!(purged["invalid_samples"], serde_json::json!({}));
        assert_eq!(purged["sync"]["removal_samples"], serde_json::json!([]));
        assert_eq!(purged["sync"]["removed"], 1);
        assert_eq!(without_samples(r#"{"sent":3,"excluded_samples":[]}"#), None);
    }
}
