//! What each export last sent to its list, per email: the ledger delta runs are sorted against,
//! with who the export put on the list (mirror mode may take them off) and who turned out to be
//! unsubscribed (never sent again).

use futures_util::TryStreamExt;
use uuid::Uuid;

use crate::database::{NativePool, Store};
use crate::error::StoreError;
use crate::run_claims::{RunClaim, fence};

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
    pub email_key: u64,
    pub fingerprint: u64,
    pub owned: bool,
}

/// Rows per statement. sqlx's SQLite driver finds each `$n` by asking SQLite for its name, and
/// SQLite looks names up in a list, so a statement's cost grows with the square of its
/// parameters: SQLite takes a hundred rows at a time. PostgreSQL binds by position.
fn rows_per_statement(connection: &sqlx::AnyConnection) -> usize {
    if connection.backend_name() == "SQLite" {
        100
    } else {
        1_000
    }
}

/// 64-bit hashes are stored as the signed integers both databases have, bit for bit.
fn stored(value: u64) -> i64 {
    value as i64
}

fn loaded(value: i64) -> u64 {
    value as u64
}

pub(crate) const OWNED: i64 = 1;
pub(crate) const UNSUBSCRIBED: i64 = 2;

/// 64 bits of a run's id, kept with each email the run sent.
pub(crate) fn run_tag(run_id: Uuid) -> i64 {
    let (high, low) = run_id.as_u64_pair();
    stored(high ^ low)
}

impl Store {
    /// The id of the ledger of an export's list, created when missing.
    pub(crate) async fn ledger_id_in(
        connection: &mut sqlx::AnyConnection,
        export_id: Uuid,
        list_id: Uuid,
    ) -> Result<i64, StoreError> {
        sqlx::query(
            "INSERT INTO export_ledgers (export_id, list_id) VALUES ($1, $2) ON CONFLICT (export_id, list_id) DO NOTHING",
        )
        .bind(export_id.to_string())
        .bind(list_id.to_string())
        .execute(&mut *connection)
        .await?;
        Ok(sqlx::query_scalar(
            "SELECT id FROM export_ledgers WHERE export_id = $1 AND list_id = $2",
        )
        .bind(export_id.to_string())
        .bind(list_id.to_string())
        .fetch_one(&mut *connection)
        .await?)
    }

    /// The id of the ledger of an export's list, if it has sent anything there: reads never
    /// create one.
    async fn existing_ledger_id(
        &self,
        export_id: Uuid,
        list_id: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM export_ledgers WHERE export_id = $1 AND list_id = $2",
        )
        .bind(export_id.to_string())
        .bind(list_id.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Streams the ledger of an export's list into `each`, for the run `run_id`. Returns the
    /// number of entries.
    pub async fn load_ledger(
        &self,
        export_id: Uuid,
        list_id: Uuid,
        run_id: Uuid,
        mut each: impl FnMut(LedgerEntry),
    ) -> Result<usize, StoreError> {
        let Some(ledger) = self.existing_ledger_id(export_id, list_id).await? else {
            return Ok(0);
        };
        let this_run = run_tag(run_id);
        const LOAD: &str = "SELECT email_key, fingerprint, flags, run_tag FROM export_members WHERE ledger_id = $1";
        let mut count = 0;
        let mut entry = |(email_key, fingerprint, flags, tag): (i64, i64, i64, i64)| {
            each(LedgerEntry {
                email_key: loaded(email_key),
                fingerprint: loaded(fingerprint),
                owned: flags & OWNED != 0,
                unsubscribed: flags & UNSUBSCRIBED != 0,
                sent_by_this_run: tag == this_run,
            });
            count += 1;
        };
        // The same query on the database's own driver: a million rows decode several times
        // faster than through `Any` (and, on SQLite, than through sqlx's worker thread).
        match &self.native {
            NativePool::Sqlite(path) => {
                let (rows_out, mut rows_in) = tokio::sync::mpsc::channel(4);
                let path = path.clone();
                let reading = tokio::task::spawn_blocking(move || {
                    read_sqlite_ledger(&path, ledger, LOAD, &rows_out)
                });
                while let Some(rows) = rows_in.recv().await {
                    rows.into_iter().for_each(&mut entry);
                }
                reading
                    .await
                    .map_err(|error| StoreError::Corrupt(format!("reading a ledger: {error}")))?
                    .map_err(|error| StoreError::Corrupt(format!("reading a ledger: {error}")))?;
            }
            NativePool::Postgres(pool) => {
                let mut rows = sqlx::query_as(LOAD).bind(ledger).fetch(pool);
                while let Some(row) = rows.try_next().await? {
                    entry(row);
                }
            }
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
        let ledger = Store::ledger_id_in(&mut *connection, export_id, list_id).await?;
        let tag = run_tag(run_id);
        // In the table's order: each page of the ledger is then visited once, not once per
        // member, which keeps a large ledger's writes within the database's page cache.
        let mut members: Vec<&SentMember> = members.iter().collect();
        members.sort_unstable_by_key(|member| stored(member.email_key));
        for chunk in members.chunks(rows_per_statement(connection)) {
            let values: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let p = row * 3;
                    format!("($1, ${}, ${}, ${}, $2)", p + 3, p + 4, p + 5)
                })
                .collect();
            let sql = format!(
                "INSERT INTO export_members (ledger_id, email_key, fingerprint, flags, run_tag) VALUES {} \
                 ON CONFLICT (ledger_id, email_key) DO UPDATE SET \
                 fingerprint = excluded.fingerprint, flags = excluded.flags, run_tag = excluded.run_tag",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(ledger).bind(tag);
            for member in chunk {
                query = query
                    .bind(stored(member.email_key))
                    .bind(stored(member.fingerprint))
                    .bind(if member.owned { OWNED } else { 0 });
            }
            query.execute(&mut *connection).await?;
        }
        Ok(())
    }

    /// Runs `statement` (with `$1` the ledger and the keys from `$2`) over `keys`, chunk by
    /// chunk, in the caller's transaction.
    async fn over_keys_in(
        connection: &mut sqlx::AnyConnection,
        ledger: i64,
        keys: &[u64],
        statement: &str,
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(rows_per_statement(connection)) {
            let sql = statement.replace("{keys}", &placeholders(2, chunk.len()));
            let mut query = sqlx::query(&sql).bind(ledger);
            for key in chunk {
                query = query.bind(stored(*key));
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
        let ledger = Store::ledger_id_in(&mut *connection, export_id, list_id).await?;
        Store::over_keys_in(
            connection,
            ledger,
            keys,
            "UPDATE export_members SET fingerprint = 0 WHERE ledger_id = $1 AND email_key IN ({keys})",
        )
        .await
    }

    /// Forgets emails that are off the list.
    pub async fn forget_members(
        &self,
        claim: &RunClaim,
        export_id: Uuid,
        list_id: Uuid,
        keys: &[u64],
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        let ledger = Store::ledger_id_in(&mut transaction, export_id, list_id).await?;
        Store::over_keys_in(
            &mut transaction,
            ledger,
            keys,
            "DELETE FROM export_members WHERE ledger_id = $1 AND email_key IN ({keys})",
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Marks as unsubscribed those of `keys` the export had sent and did not know were;
    /// returns them.
    pub async fn mark_unsubscribed(
        &self,
        claim: &RunClaim,
        export_id: Uuid,
        list_id: Uuid,
        keys: &[u64],
    ) -> Result<Vec<u64>, StoreError> {
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        let ledger = Store::ledger_id_in(&mut transaction, export_id, list_id).await?;
        let mut marked = Vec::new();
        for chunk in keys.chunks(rows_per_statement(&transaction)) {
            let sql = format!(
                "SELECT email_key FROM export_members WHERE ledger_id = $1 AND (flags & {UNSUBSCRIBED}) = 0 AND email_key IN ({})",
                placeholders(2, chunk.len())
            );
            let mut select = sqlx::query_scalar::<_, i64>(&sql).bind(ledger);
            for key in chunk {
                select = select.bind(stored(*key));
            }
            marked.extend(
                select
                    .fetch_all(&mut *transaction)
                    .await?
                    .into_iter()
                    .map(loaded),
            );
        }
        Store::over_keys_in(
            &mut transaction,
            ledger,
            &marked,
            &format!("UPDATE export_members SET flags = flags | {UNSUBSCRIBED} WHERE ledger_id = $1 AND email_key IN ({{keys}})"),
        )
        .await?;
        transaction.commit().await?;
        Ok(marked)
    }

    /// Corrects the ledger from the list as it was read back, in one transaction under the
    /// run's claim: `forget` are off the list (the next run sends them again when they are
    /// still meant), `unsubscribed` are off it because they unsubscribed (never sent again).
    pub async fn correct_ledger(
        &self,
        claim: &RunClaim,
        export_id: Uuid,
        list_id: Uuid,
        forget: &[u64],
        unsubscribed: &[u64],
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        fence(&mut transaction, claim).await?;
        let ledger = Store::ledger_id_in(&mut transaction, export_id, list_id).await?;
        Store::over_keys_in(
            &mut transaction,
            ledger,
            forget,
            "DELETE FROM export_members WHERE ledger_id = $1 AND email_key IN ({keys})",
        )
        .await?;
        Store::over_keys_in(
            &mut transaction,
            ledger,
            unsubscribed,
            &format!("UPDATE export_members SET flags = flags | {UNSUBSCRIBED} WHERE ledger_id = $1 AND email_key IN ({{keys}})"),
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// How many emails an export's ledger holds for its list.
    pub async fn ledger_size(&self, export_id: Uuid, list_id: Uuid) -> Result<u64, StoreError> {
        let Some(ledger) = self.existing_ledger_id(export_id, list_id).await? else {
            return Ok(0);
        };
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM export_members WHERE ledger_id = $1")
                .bind(ledger)
                .fetch_one(&self.pool)
                .await?;
        Ok(count as u64)
    }
}

type LedgerRow = (i64, i64, i64, i64);

/// Reads a ledger's rows from the SQLite file at `path` and hands them on in chunks.
fn read_sqlite_ledger(
    path: &std::path::Path,
    ledger: i64,
    sql: &str,
    rows_out: &tokio::sync::mpsc::Sender<Vec<LedgerRow>>,
) -> rusqlite::Result<()> {
    const CHUNK: usize = 16_384;
    let connection = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    let mut statement = connection.prepare(sql)?;
    let mut rows = statement.query([ledger])?;
    let mut chunk = Vec::with_capacity(CHUNK);
    while let Some(row) = rows.next()? {
        chunk.push((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?));
        if chunk.len() == CHUNK {
            if rows_out.blocking_send(std::mem::take(&mut chunk)).is_err() {
                return Ok(());
            }
            chunk.reserve(CHUNK);
        }
    }
    if !chunk.is_empty() {
        let _ = rows_out.blocking_send(chunk);
    }
    Ok(())
}

/// `$first, $first+1, …` for `n` parameters.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
