//! What each export last sent to its list, per email: the ledger delta runs are sorted against,
//! with who the export put on the list (mirror mode may take them off) and who turned out to be
//! unsubscribed (never sent again).

use futures_util::TryStreamExt;
use sqlx::Row;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;

/// One email of an export's ledger, as a run loads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerEntry {
    pub email_key: u64,
    pub fingerprint: u64,
    pub owned: bool,
    pub unsubscribed: bool,
    /// Last sent by the run asking (an earlier attempt of it).
    pub sent_by_this_run: bool,
}

/// One email an import carried, to remember once it is accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SentMember {
    pub email: String,
    pub email_key: u64,
    pub fingerprint: u64,
    pub owned: bool,
}

/// Rows per statement: seven parameters each, well within both databases' limits.
const ROWS: usize = 300;

/// 64-bit hashes are stored as the signed integers both databases have, bit for bit.
fn stored(value: u64) -> i64 {
    value as i64
}

fn loaded(value: i64) -> u64 {
    value as u64
}

impl Store {
    /// Streams the ledger of an export's list into `each`, for the run `run_id`. Returns the
    /// number of entries.
    pub async fn load_ledger(
        &self,
        export_id: Uuid,
        list_id: Uuid,
        run_id: Uuid,
        mut each: impl FnMut(LedgerEntry),
    ) -> Result<usize, StoreError> {
        let mut rows = sqlx::query(
            "SELECT email_key, fingerprint, owned, unsubscribed, \
                    CASE WHEN run_id = $3 THEN 1 ELSE 0 END AS this_run \
             FROM export_members WHERE export_id = $1 AND list_id = $2",
        )
        .bind(export_id.to_string())
        .bind(list_id.to_string())
        .bind(run_id.to_string())
        .fetch(&self.pool);
        let mut count = 0;
        while let Some(row) = rows.try_next().await? {
            each(LedgerEntry {
                email_key: loaded(row.try_get("email_key")?),
                fingerprint: loaded(row.try_get("fingerprint")?),
                owned: row.try_get::<i64, _>("owned")? != 0,
                unsubscribed: row.try_get::<i64, _>("unsubscribed")? != 0,
                sent_by_this_run: row.try_get::<i64, _>("this_run")? != 0,
            });
            count += 1;
        }
        Ok(count)
    }

    /// Remembers what a run sent, within the caller's transaction.
    pub(crate) async fn remember_sent_in(
        connection: &mut sqlx::AnyConnection,
        export_id: Uuid,
        list_id: Uuid,
        run_id: Uuid,
        members: &[SentMember],
    ) -> Result<(), StoreError> {
        for chunk in members.chunks(ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let p = row * 7;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, 0, ${})",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 6,
                        p + 7
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO export_members (export_id, list_id, email_key, email, fingerprint, owned, unsubscribed, run_id) VALUES {} \
                 ON CONFLICT (export_id, list_id, email_key) DO UPDATE SET \
                 email = excluded.email, fingerprint = excluded.fingerprint, owned = excluded.owned, \
                 unsubscribed = 0, run_id = excluded.run_id",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for member in chunk {
                query = query
                    .bind(export_id.to_string())
                    .bind(list_id.to_string())
                    .bind(stored(member.email_key))
                    .bind(&member.email)
                    .bind(stored(member.fingerprint))
                    .bind(i64::from(member.owned))
                    .bind(run_id.to_string());
            }
            query.execute(&mut *connection).await?;
        }
        Ok(())
    }

    /// Marks emails to be sent again by the next run (their import did not complete).
    pub(crate) async fn resend_in(
        connection: &mut sqlx::AnyConnection,
        export_id: Uuid,
        list_id: Uuid,
        keys: &[u64],
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(ROWS) {
            let sql = format!(
                "UPDATE export_members SET fingerprint = 0 WHERE export_id = $1 AND list_id = $2 AND email_key IN ({})",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&sql)
                .bind(export_id.to_string())
                .bind(list_id.to_string());
            for key in chunk {
                query = query.bind(stored(*key));
            }
            query.execute(&mut *connection).await?;
        }
        Ok(())
    }

    /// Forgets emails that are off the list.
    pub async fn forget_members(
        &self,
        export_id: Uuid,
        list_id: Uuid,
        keys: &[u64],
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        for chunk in keys.chunks(ROWS) {
            let sql = format!(
                "DELETE FROM export_members WHERE export_id = $1 AND list_id = $2 AND email_key IN ({})",
                placeholders(3, chunk.len())
            );
            let mut query = sqlx::query(&sql)
                .bind(export_id.to_string())
                .bind(list_id.to_string());
            for key in chunk {
                query = query.bind(stored(*key));
            }
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Marks as unsubscribed those of `keys` the export had sent; returns their emails.
    pub async fn mark_unsubscribed(
        &self,
        export_id: Uuid,
        list_id: Uuid,
        keys: &[u64],
    ) -> Result<Vec<String>, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let mut marked = Vec::new();
        for chunk in keys.chunks(ROWS) {
            let list = placeholders(3, chunk.len());
            let select = format!(
                "SELECT email FROM export_members WHERE export_id = $1 AND list_id = $2 AND unsubscribed = 0 AND email_key IN ({list})"
            );
            let update = format!(
                "UPDATE export_members SET unsubscribed = 1 WHERE export_id = $1 AND list_id = $2 AND email_key IN ({list})"
            );
            let mut select = sqlx::query_scalar::<_, String>(&select)
                .bind(export_id.to_string())
                .bind(list_id.to_string());
            let mut update = sqlx::query(&update)
                .bind(export_id.to_string())
                .bind(list_id.to_string());
            for key in chunk {
                select = select.bind(stored(*key));
                update = update.bind(stored(*key));
            }
            marked.extend(select.fetch_all(&mut *transaction).await?);
            update.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(marked)
    }

    /// How many emails an export's ledger holds for its list.
    pub async fn ledger_size(&self, export_id: Uuid, list_id: Uuid) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM export_members WHERE export_id = $1 AND list_id = $2",
        )
        .bind(export_id.to_string())
        .bind(list_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(count as u64)
    }
}

/// `$first, $first+1, …` for `n` parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
