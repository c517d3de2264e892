//! What the store holds about one address, for a subject access request: the ledgers that sent
//! it, the runs that skipped it, and the opt-outs learned of it.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::ledger::{OWNED, UNSUBSCRIBED, run_tag};
use crate::opt_outs::{COLUMNS as OPT_OUT_COLUMNS, OptOut, opt_out_from_row};
use crate::time::from_millis;
use crate::users::parse_uuid;

/// One export's ledger entry of the address: what segsync last sent to the export's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentBy {
    pub export_id: Uuid,
    pub export_name: String,
    pub list_id: String,
    /// The fingerprint of the fields as last sent (segsync keeps no copy of their values).
    pub fingerprint: u64,
    /// Whether the export put the contact on the list (mirror mode may take it off).
    pub owned: bool,
    /// Whether Constant Contact said it is unsubscribed.
    pub unsubscribed: bool,
    /// The run that last sent it, while that run is kept.
    pub last_sent_by_run: Option<Uuid>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// A run that left the address out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    pub run_id: Uuid,
    pub export_id: Uuid,
    pub queued_at: DateTime<Utc>,
    pub email_as_written: String,
    pub reason: String,
}

/// Everything the store keeps of an address, beside the keyed hashes.
#[derive(Debug, Clone, Default)]
pub struct PersonRecords {
    pub sent_by: Vec<SentBy>,
    pub skipped: Vec<SkippedEntry>,
    pub opt_outs: Vec<OptOut>,
}

impl Store {
    /// What the store holds of the normalised `address` (ledger key `email_key`).
    pub async fn person_records(
        &self,
        address: &str,
        email_key: u64,
    ) -> Result<PersonRecords, StoreError> {
        let key = email_key as i64;
        let mut records = PersonRecords::default();
        let ledgers = sqlx::query(
            "SELECT l.id, l.export_id, l.list_id, e.name FROM export_ledgers l JOIN exports e ON e.id = l.export_id ORDER BY e.name, l.id",
        )
        .fetch_all(&self.pool)
        .await?;
        for ledger in &ledgers {
            let Some(member) = sqlx::query(
                "SELECT fingerprint, flags, run_tag FROM export_members WHERE ledger_id = $1 AND email_key = $2",
            )
            .bind(ledger.try_get::<i64, _>("id")?)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            else {
                continue;
            };
            let export_id = parse_uuid(&ledger.try_get::<String, _>("export_id")?)?;
            let tag: i64 = member.try_get("run_tag")?;
            let runs =
                sqlx::query("SELECT id, started_at, finished_at FROM runs WHERE export_id = $1")
                    .bind(export_id.to_string())
                    .fetch_all(&self.pool)
                    .await?;
            let mut last_sent_by_run = None;
            let mut last_sent_at = None;
            for run in &runs {
                let id = parse_uuid(&run.try_get::<String, _>("id")?)?;
                if run_tag(id) == tag {
                    last_sent_by_run = Some(id);
                    last_sent_at = run
                        .try_get::<Option<i64>, _>("finished_at")?
                        .or(run.try_get::<Option<i64>, _>("started_at")?)
                        .map(from_millis);
                }
            }
            let flags: i64 = member.try_get("flags")?;
            records.sent_by.push(SentBy {
                export_id,
                export_name: ledger.try_get("name")?,
                list_id: ledger.try_get("list_id")?,
                fingerprint: member.try_get::<i64, _>("fingerprint")? as u64,
                owned: flags & OWNED != 0,
                unsubscribed: flags & UNSUBSCRIBED != 0,
                last_sent_by_run,
                last_sent_at,
            });
        }
        let skipped = sqlx::query(
            "SELECT s.run_id, s.email, s.reason, r.export_id, r.queued_at FROM run_skips s JOIN runs r ON r.id = s.run_id \
             WHERE lower(trim(s.email)) = $1 ORDER BY r.queued_at DESC",
        )
        .bind(address.to_ascii_lowercase())
        .fetch_all(&self.pool)
        .await?;
        for row in &skipped {
            records.skipped.push(SkippedEntry {
                run_id: parse_uuid(&row.try_get::<String, _>("run_id")?)?,
                export_id: parse_uuid(&row.try_get::<String, _>("export_id")?)?,
                queued_at: from_millis(row.try_get("queued_at")?),
                email_as_written: row.try_get("email")?,
                reason: row.try_get("reason")?,
            });
        }
        let opt_outs = sqlx::query(&format!(
            "SELECT {OPT_OUT_COLUMNS} FROM opt_outs WHERE email_key = $1 OR lower(email) = $2 ORDER BY learned_at DESC"
        ))
        .bind(key)
        .bind(address.to_ascii_lowercase())
        .fetch_all(&self.pool)
        .await?;
        records.opt_outs = opt_outs
            .iter()
            .map(opt_out_from_row)
            .collect::<Result<_, _>>()?;
        Ok(records)
    }
}
