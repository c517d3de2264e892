//! Runs per day by outcome, for the last days: what the Status page draws. Everyone reads.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use segsync_store::RunStatus;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// The most days one answer covers.
const MAX_DAYS: u32 = 366;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DaysQuery {
    /// Days to cover, today included: 14 unless given, at most 366.
    pub(crate) days: Option<u32>,
}

/// One UTC day: how many runs ended in each status (runs not yet ended count on the day they
/// were queued, as `queued` or `running`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RunDay {
    pub(crate) day: NaiveDate,
    /// Runs by status; a status without runs that day is left out.
    pub(crate) runs: BTreeMap<RunStatus, u64>,
}

impl RunDay {
    pub(crate) fn count(&self, status: RunStatus) -> u64 {
        self.runs.get(&status).copied().unwrap_or(0)
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/runs/per-day",
    operation_id = "runs_per_day",
    tag = "runs",
    params(DaysQuery),
    responses(
        (status = OK, description = "Every day of the range, oldest first, days without runs included", body = [RunDay]),
    )
)]
pub(crate) async fn per_day(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<DaysQuery>,
) -> Result<Json<Vec<RunDay>>, AppError> {
    let days = query.days.unwrap_or(14);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::invalid(
            "days",
            format!("1 to {MAX_DAYS} days, today included"),
        ));
    }
    let today = Utc::now().date_naive();
    let first = today - Duration::days(i64::from(days) - 1);
    let counted = state
        .store
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
    Ok(Json(range))
}
