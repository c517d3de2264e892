//! The refresh schedules: the system's, which every export follows unless it has its own, and
//! each export's override. A moment of a schedule starts the runs of its exports once, however
//! many processes watch it: each process advances the schedule's cursor in the store only if no
//! other process did first.

use std::time::Duration;

use chrono::{DateTime, Utc};
use segsync_domain::schedule::RefreshSchedule;
use segsync_store::{Export, Trigger};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::audit::{Subject, record_for};
use crate::error::ApiError;
use crate::runs::{Started, start_run};
use crate::state::AppState;

/// The setting that holds the system refresh schedule.
pub(crate) const SETTING: &str = "refresh_schedule";

/// How often the scheduler looks at the clock.
const TICK: Duration = Duration::from_secs(15);

/// The system refresh schedule; off until an admin sets it.
pub(crate) async fn system_schedule(state: &AppState) -> Result<RefreshSchedule, ApiError> {
    match state.store.setting(SETTING).await? {
        None => Ok(RefreshSchedule::off()),
        Some(value) => serde_json::from_value(value)
            .map_err(|error| ApiError::internal(format!("the stored refresh schedule: {error}"))),
    }
}

/// The schedule `export` follows: its own override, or the system's.
pub(crate) fn schedule_of(export: &Export, system: &RefreshSchedule) -> RefreshSchedule {
    export
        .schedule_override
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| system.clone())
}

/// Whether `export` runs on a schedule at all, as "Run all" asks.
pub(crate) fn has_active_schedule(export: &Export, system: &RefreshSchedule) -> bool {
    schedule_of(export, system).next_after(Utc::now()).is_some()
}

/// Starts the runs every schedule calls for between its last moment seen and `now`. A moment
/// missed while no server was up starts its runs once, at the next tick.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> Result<Vec<Started>, ApiError> {
    let system = system_schedule(state).await?;
    let exports = state.store.exports().await?;
    let mut started = Vec::new();
    let system_due = is_due(state, "system", &system, now).await?;
    // One export that cannot start never costs the others their moment: it is recorded as
    // Skipped with the reason, and the tick goes on.
    for export in &exports {
        match start_if_due(state, export, &system, system_due, now).await {
            Ok(Some(outcome)) => started.push(outcome),
            Ok(None) => {}
            Err(error) => {
                let reason = format!(
                    "the refresh schedule could not start a run: {}",
                    error.message
                );
                warn!(export = %export.id, %reason, "A scheduled run could not start.");
                match state
                    .store
                    .record_skipped_run(export.id, Trigger::Schedule, None, &reason)
                    .await
                {
                    Ok(run) => started.push(Started::Skipped(run)),
                    Err(error) => {
                        warn!(export = %export.id, %error, "A scheduled run that could not start could not be recorded either.");
                    }
                }
            }
        }
    }
    Ok(started)
}

/// Starts a run of `export` when its schedule (the system's, or its own) is due.
async fn start_if_due(
    state: &AppState,
    export: &Export,
    system: &RefreshSchedule,
    system_due: bool,
    now: DateTime<Utc>,
) -> Result<Option<Started>, ApiError> {
    let due = match &export.schedule_override {
        None => system_due,
        Some(_) => {
            let schedule = schedule_of(export, system);
            is_due(state, &format!("export:{}", export.id), &schedule, now).await?
        }
    };
    if !due {
        return Ok(None);
    }
    let outcome = start_run(state, export, Trigger::Schedule, None).await?;
    info!(export = %export.id, outcome = ?outcome, "The refresh schedule started a run.");
    let run = outcome.run();
    record_for(
        state,
        run.acting_user,
        if matches!(outcome, Started::Queued(_)) {
            "ran"
        } else {
            "skipped"
        },
        Subject {
            kind: "export",
            id: export.id.to_string(),
            name: &export.name,
        },
        Some(serde_json::json!({ "run_id": run.id, "trigger": "schedule", "reason": run.reason })),
    )
    .await?;
    Ok(Some(outcome))
}

/// Whether a moment of `schedule` fell after its cursor and by `now`; if so, this process takes
/// it by moving the cursor to `now`. A schedule seen for the first time starts from `now`.
async fn is_due(
    state: &AppState,
    name: &str,
    schedule: &RefreshSchedule,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let key = format!("schedule_cursor:{name}");
    let now_value = serde_json::json!(now);
    let Some(cursor) = state.store.setting(&key).await? else {
        state.store.replace_setting(&key, None, &now_value).await?;
        return Ok(false);
    };
    let last: DateTime<Utc> = serde_json::from_value(cursor.clone()).map_err(|error| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_setting",
            format!("the store's setting {key} is damaged: {error}"),
        )
    })?;
    let due = schedule.next_after(last).is_some_and(|next| next <= now);
    Ok(due
        && state
            .store
            .replace_setting(&key, Some(&cursor), &now_value)
            .await?)
}

/// Ticks until `stopping` is cancelled.
pub(crate) async fn keep_time(state: AppState, stopping: CancellationToken) {
    loop {
        if let Err(error) = tick(&state, Utc::now()).await {
            warn!(error = %error.message, "The scheduler could not start its runs; it tries again.");
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = stopping.cancelled() => return,
        }
    }
}
