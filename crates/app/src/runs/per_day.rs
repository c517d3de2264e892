//! Runs per day by outcome, for the last days: what the Status page draws.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use segsync_store::{RunStatus, Store};
use serde::Serialize;

use crate::error::AppError;

/// The most days one answer covers.
pub const MAX_DAYS: u32 = 366;

/// One UTC day: how many runs ended in each status (runs not yet ended count on the day they
/// were queued, as `queued` or `running`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunDay {
    pub day: NaiveDate,
    /// Runs by status; a status without runs that day is left out.
    pub runs: BTreeMap<RunStatus, u64>,
}

impl RunDay {
    pub fn count(&self, status: RunStatus) -> u64 {
        self.runs.get(&status).copied().unwrap_or(0)
    }
}

/// Every day of the last `days` (today included), oldest first, days without runs included.
pub(crate) async fn per_day(store: &Store, days: u32) -> Result<Vec<RunDay>, AppError> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::invalid(
            "days",
            format!("1 to {MAX_DAYS} days, today included"),
        ));
    }
    let today = Utc::now().date_naive();
    let first = today - Duration::days(i64::from(days) - 1);
    let counted = store
        .runs_per_day(first.and_time(NaiveTime::MIN).and_utc())
        .await?;
    let mut range: Vec<RunDay> = first
        .iter_days()
        .take(days as usize)
        .map(|day| RunDay {
            day,
            runs: BTreeMap::new(),
        })
        .collect();
    for (day, status, runs) in counted {
        if let Some(slot) = range.iter_mut().find(|slot| slot.day == day) {
            slot.runs.insert(status, runs);
        }
    }
    Ok(range)
}
