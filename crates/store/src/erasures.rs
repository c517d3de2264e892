//! Erasure per person: tombstones (keyed hashes of erased addresses, which no export sends
//! again), the erasure jobs that take people off the lists in Constant Contact, and the purge
//! of everything the store holds about one address.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

/// Where an erasure job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureState {
    /// Tombstones kept and the store purged; the lists not yet touched.
    Requested,
    /// Taking the people off the lists in Constant Contact.
    Removing,
    Done,
    /// The removal failed (the reason is kept); it may be retried, the tombstones in force.
    Failed,
}

impl ErasureState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Removing => "removing",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "requested" => Self::Requested,
            "removing" => Self::Removing,
            "done" => Self::Done,
            "failed" => Self::Failed,
            other => return Err(StoreError::Corrupt(format!("erasure state {other:?}"))),
        })
    }
}

/// One erasure as stored.
#[derive(Debug, Clone)]
pub struct Erasure {
    pub id: Uuid,
    pub state: ErasureState,
    pub requested_by: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub people: u64,
    pub failure: Option<String>,
    pub attempts: u64,
    /// What was done, by keyed hash (JSON).
    pub receipt: serde_json::Value,
}

/// What the store held of one address, now purged.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PurgedFromStore {
    /// The exports whose ledgers had sent it, with their lists.
    pub ledgers: Vec<(Uuid, String)>,
    pub skipped_entries: u64,
    pub opt_outs: u64,
    /// Runs whose report, progress, guard or reason named it (the address replaced).
    pub runs_rewritten: u64,
    /// Audit entries whose detail named it (the address replaced).
    pub audit_entries_rewritten: u64,
}

/// What an erased address is replaced with wherever text held it.
pub const ERASED: &str = "(erased)";

const COLUMNS: &str =
    "id, state, requested_by, requested_at, updated_at, people, failure, attempts, receipt";

fn erasure_from_row(row: &AnyRow) -> Result<Erasure, StoreError> {
    let receipt: String = row.try_get("receipt")?;
    Ok(Erasure {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        state: ErasureState::parse(&row.try_get::<String, _>("state")?)?,
        requested_by: row
            .try_get::<Option<String>, _>("requested_by")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        requested_at: from_millis(row.try_get("requested_at")?),
        updated_at: from_millis(row.try_get("updated_at")?),
        people: row.try_get::<i64, _>("people")? as u64,
        failure: row.try_get("failure")?,
        attempts: row.try_get::<i64, _>("attempts")? as u64,
        receipt: serde_json::from_str(&receipt)
            .map_err(|error| StoreError::Corrupt(format!("an erasure's receipt: {error}")))?,
    })
}

/// `text` with every occurrence of `address` (ASCII case-insensitively) replaced by
/// [`ERASED`]; none when it holds none.
pub fn without_address(text: &str, address: &str) -> Option<String> {
    let needle = address.to_ascii_lowercase();
    if needle.is_empty() {
        return None;
    }
    let haystack = text.to_ascii_lowercase();
    if !haystack.contains(&needle) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = haystack[from..].find(&needle) {
        out.push_str(&text[from..from + found]);
        out.push_str(ERASED);
        from += found + needle.len();
    }
    out.push_str(&text[from..]);
    Some(out)
}

/// A `LIKE` pattern finding `address` anywhere in lower-cased text (its `_` and `%` match
/// more than themselves, which only widens what is read, never what is changed).
fn containing(address: &str) -> String {
    format!("%{}%", address.to_ascii_lowercase())
}

impl Store {
    /// Records an erasure of `hashes` (keyed, hex): the tombstones and the job, in one
    /// transaction, so the tombstones are in force before anything else happens.
    pub async fn create_erasure(
        &self,
        id: Uuid,
        by: Option<Uuid>,
        hashes: &[String],
        subjects_sealed: &[u8],
        receipt: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let now = to_millis(Utc::now());
        for hash in hashes {
            sqlx::query(
                "INSERT INTO tombstones (hash, erasure_id, erased_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash)
            .bind(id.to_string())
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query(
            "INSERT INTO erasures (id, state, requested_by, requested_at, updated_at, people, subjects_sealed, receipt) \
             VALUES ($1, 'requested', $2, $3, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(by.map(|by| by.to_string()))
        .bind(now)
        .bind(hashes.len() as i64)
        .bind(subjects_sealed.to_vec())
        .bind(receipt.to_string())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Every tombstone's keyed hash (hex), for a run to check its members against.
    pub async fn tombstone_hashes(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT hash FROM tombstones")
            .fetch_all(&self.pool)
            .await?)
    }

    /// When the address of keyed hash `hash` was erased, if it was.
    pub async fn tombstone(&self, hash: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT erased_at FROM tombstones WHERE hash = $1")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(at.map(from_millis))
    }

    pub async fn erasure(&self, id: Uuid) -> Result<Erasure, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM erasures WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "erasure",
                key: id.to_string(),
            })?;
        erasure_from_row(&row)
    }

    /// The latest erasures, newest first.
    pub async fn erasures(&self, limit: u32) -> Result<Vec<Erasure>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM erasures ORDER BY requested_at DESC, id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(erasure_from_row).collect()
    }

    /// Erasures a node should carry out: requested ones, and those left removing by a node
    /// that has not touched them for `stale_after`.
    pub async fn erasures_to_carry_out(
        &self,
        stale_after: chrono::Duration,
    ) -> Result<Vec<Uuid>, StoreError> {
        let stale = to_millis(Utc::now() - stale_after);
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM erasures WHERE state = 'requested' OR (state = 'removing' AND updated_at < $1) ORDER BY requested_at",
        )
        .bind(stale)
        .fetch_all(&self.pool)
        .await?;
        ids.iter().map(|id| parse_uuid(id)).collect()
    }

    /// Takes an erasure up to carry it out: a requested one, or one left removing since before
    /// `stale_before` by a node that stopped. Returns its sealed addresses, or none when another
    /// node took it or it is not waiting.
    pub async fn take_up_erasure(
        &self,
        id: Uuid,
        stale_before: DateTime<Utc>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let now = to_millis(Utc::now());
        let taken = sqlx::query(
            "UPDATE erasures SET state = 'removing', updated_at = $1, attempts = attempts + 1, failure = NULL \
             WHERE id = $2 AND subjects_sealed IS NOT NULL AND (state = 'requested' OR (state = 'removing' AND updated_at < $3))",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(to_millis(stale_before))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if taken == 0 {
            return Ok(None);
        }
        Ok(
            sqlx::query_scalar("SELECT subjects_sealed FROM erasures WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Puts a failed erasure back to be carried out again; whether it was failed.
    pub async fn retry_erasure(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE erasures SET state = 'requested', updated_at = $1 WHERE id = $2 AND state = 'failed'",
        )
        .bind(to_millis(Utc::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Runs still going that began before `at`: they may have read the profiles before a
    /// tombstone was made, so an erasure waits for them.
    pub async fn runs_going_since_before(&self, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let going: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM runs WHERE status = 'running' AND started_at < $1",
        )
        .bind(to_millis(at))
        .fetch_one(&self.pool)
        .await?;
        Ok(going as u64)
    }

    /// Notes that an erasure being carried out is alive, with its receipt so far.
    pub async fn erasure_progress(
        &self,
        id: Uuid,
        receipt: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE erasures SET updated_at = $1, receipt = $2 WHERE id = $3 AND state = 'removing'")
            .bind(to_millis(Utc::now()))
            .bind(receipt.to_string())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends an erasure: done (the sealed addresses dropped) or failed with the reason (kept
    /// for a retry).
    pub async fn end_erasure(
        &self,
        id: Uuid,
        failure: Option<&str>,
        receipt: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let query = match failure {
            None => {
                "UPDATE erasures SET state = 'done', failure = $1, updated_at = $2, receipt = $3, subjects_sealed = NULL WHERE id = $4"
            }
            Some(_) => {
                "UPDATE erasures SET state = 'failed', failure = $1, updated_at = $2, receipt = $3 WHERE id = $4"
            }
        };
        sqlx::query(query)
            .bind(failure)
            .bind(to_millis(Utc::now()))
            .bind(receipt.to_string())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Purges everything the store holds of one address (normalised, and its ledger key) in one
    /// transaction: its entries in every ledger, skipped lists and opt-outs are deleted, and
    /// wherever a run's report, progress, guard or reason or an audit entry names it, the
    /// address is replaced by [`ERASED`].
    pub async fn purge_person(
        &self,
        address: &str,
        email_key: u64,
    ) -> Result<PurgedFromStore, StoreError> {
        let mut transaction = self.begin_write().await?;
        let key = email_key as i64;
        let lowered = address.to_ascii_lowercase();
        let mut purged = PurgedFromStore::default();
        let ledgers = sqlx::query("SELECT id, export_id, list_id FROM export_ledgers ORDER BY id")
            .fetch_all(&mut *transaction)
            .await?;
        for ledger in &ledgers {
            let deleted =
                sqlx::query("DELETE FROM export_members WHERE ledger_id = $1 AND email_key = $2")
                    .bind(ledger.try_get::<i64, _>("id")?)
                    .bind(key)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected();
            if deleted > 0 {
                purged.ledgers.push((
                    parse_uuid(&ledger.try_get::<String, _>("export_id")?)?,
                    ledger.try_get("list_id")?,
                ));
            }
        }
        purged.skipped_entries =
            sqlx::query("DELETE FROM run_skips WHERE lower(email) = $1 OR lower(trim(email)) = $1")
                .bind(&lowered)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        purged.opt_outs =
            sqlx::query("DELETE FROM opt_outs WHERE email_key = $1 OR lower(email) = $2")
                .bind(key)
                .bind(&lowered)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        let pattern = containing(address);
        let runs = sqlx::query(
            "SELECT id, report, progress, guard, reason FROM runs WHERE lower(report) LIKE $1 OR lower(progress) LIKE $1 OR lower(guard) LIKE $1 OR lower(reason) LIKE $1",
        )
        .bind(&pattern)
        .fetch_all(&mut *transaction)
        .await?;
        for run in &runs {
            let mut columns: Vec<Option<String>> = Vec::new();
            let mut changed = false;
            for column in ["report", "progress", "guard", "reason"] {
                let text: Option<String> = run.try_get(column)?;
                let rewritten = text
                    .as_deref()
                    .and_then(|text| without_address(text, address));
                changed |= rewritten.is_some();
                columns.push(rewritten.or(text));
            }
            if changed {
                sqlx::query(
                    "UPDATE runs SET report = $1, progress = $2, guard = $3, reason = $4 WHERE id = $5",
                )
                .bind(&columns[0])
                .bind(&columns[1])
                .bind(&columns[2])
                .bind(&columns[3])
                .bind(run.try_get::<String, _>("id")?)
                .execute(&mut *transaction)
                .await?;
                purged.runs_rewritten += 1;
            }
        }
        let entries = sqlx::query(
            "SELECT id, detail, object_name FROM audit_log WHERE lower(detail) LIKE $1 OR lower(object_name) LIKE $1",
        )
        .bind(&pattern)
        .fetch_all(&mut *transaction)
        .await?;
        for entry in &entries {
            let detail: Option<String> = entry.try_get("detail")?;
            let name: String = entry.try_get("object_name")?;
            let new_detail = detail.as_deref().and_then(|d| without_address(d, address));
            let new_name = without_address(&name, address);
            if new_detail.is_some() || new_name.is_some() {
                sqlx::query("UPDATE audit_log SET detail = $1, object_name = $2 WHERE id = $3")
                    .bind(new_detail.or(detail))
                    .bind(new_name.unwrap_or(name))
                    .bind(entry.try_get::<i64, _>("id")?)
                    .execute(&mut *transaction)
                    .await?;
                purged.audit_entries_rewritten += 1;
            }
        }
        transaction.commit().await?;
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_replaced_in_any_case_and_only_where_it_is() {
        assert_eq!(
            without_address(
                r#"{"samples":["Ada@Example.com","bob@example.com"]}"#,
                "ada@example.com"
            )
            .as_deref(),
            Some(r#"{"samples":["(erased)","bob@example.com"]}"#)
        );
        assert_eq!(without_address("nothing here", "ada@example.com"), None);
        assert_eq!(
            without_address("ada@example.com, ADA@EXAMPLE.COM", "ada@example.com").as_deref(),
            Some("(erased), (erased)")
        );
    }
}
