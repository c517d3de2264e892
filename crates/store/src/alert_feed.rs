//! What alerts are made of, read in the order it happened: runs that ended failed or timed out
//! or that a guard stopped to wait for confirmation, and connections whose health became "needs re-authentication". A reader keeps a
//! `FeedCursor` per feed and asks for what came after it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::connections::{COLUMNS as CONNECTION_COLUMNS, Connection, connection_from_row};
use crate::database::Store;
use crate::error::StoreError;
use crate::runs::{COLUMNS as RUN_COLUMNS, Run, RunStatus, run_from_row};
use crate::time::to_millis;

/// A place in a feed: what happened at `at_ms` (Unix milliseconds) to the item with an id
/// after `id`, or later, comes next. Ids break ties between items of the same millisecond.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCursor {
    pub at_ms: i64,
    pub id: String,
}

impl FeedCursor {
    /// The start of a feed at `at`: only what happens after it comes.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            at_ms: to_millis(at),
            id: String::new(),
        }
    }
}

impl Store {
    /// Runs that ended failed or timed out, or that a guard stopped (they wait for confirmation),
    /// after `after` and no later than `until`, oldest first, at most `limit`.
    pub async fn runs_ended_badly(
        &self,
        after: &FeedCursor,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Run>, StoreError> {
        let which = format!(
            "status IN ('{}', '{}', '{}')",
            RunStatus::Failed.as_str(),
            RunStatus::TimedOut.as_str(),
            RunStatus::AwaitingConfirmation.as_str()
        );
        let rows = self
            .read_feed(
                RUN_COLUMNS,
                "runs",
                &which,
                "finished_at",
                after,
                until,
                limit,
            )
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Connections whose health became "needs re-authentication" after `after` and no later
    /// than `until`, and still is, oldest change first, at most `limit`.
    pub async fn connections_needing_reauthentication(
        &self,
        after: &FeedCursor,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Connection>, StoreError> {
        let rows = self
            .read_feed(
                CONNECTION_COLUMNS,
                "connections",
                "health = 'needs_reauthentication'",
                "health_changed_at",
                after,
                until,
                limit,
            )
            .await?;
        rows.iter().map(connection_from_row).collect()
    }

    /// The rows of `table` that match `which` and whose `at` (Unix milliseconds) comes after
    /// the cursor — ids breaking ties — and no later than `until`, in that order.
    #[allow(clippy::too_many_arguments)]
    async fn read_feed(
        &self,
        columns: &str,
        table: &str,
        which: &str,
        at: &str,
        after: &FeedCursor,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(&format!(
            "SELECT {columns} FROM {table} WHERE {which} \
             AND ({at} > $1 OR ({at} = $1 AND id > $2)) AND {at} <= $3 \
             ORDER BY {at}, id LIMIT $4"
        ))
        .bind(after.at_ms)
        .bind(&after.id)
        .bind(to_millis(until))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }
}
