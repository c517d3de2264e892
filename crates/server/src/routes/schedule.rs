//! The system refresh schedule: everyone reads it with its next run; admins change it.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use segsync_domain::schedule::RefreshSchedule;
use segsync_store::Role;
use serde::Serialize;

use crate::audit::{Subject, record};
use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;
use segsync_runs::schedule::{SETTING, system_schedule};

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ScheduleView {
    pub(crate) schedule: RefreshSchedule,
    /// When the schedule runs next; none while it is off.
    pub(crate) next_run: Option<DateTime<Utc>>,
}

fn view(schedule: RefreshSchedule) -> ScheduleView {
    let next_run = schedule.next_after(Utc::now());
    ScheduleView { schedule, next_run }
}

#[utoipa::path(
    get,
    path = "/api/v1/schedule",
    operation_id = "schedule_get",
    tag = "schedule",
    responses(
        (status = OK, description = "Done", body = ScheduleView),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<ScheduleView>, AppError> {
    Ok(Json(view(system_schedule(&state.store).await?)))
}

#[utoipa::path(
    put,
    path = "/api/v1/schedule",
    operation_id = "schedule_put",
    tag = "schedule",
    responses(
        (status = OK, description = "Done", body = ScheduleView),
    )
)]
pub(crate) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Json(schedule): Json<RefreshSchedule>,
) -> Result<Json<ScheduleView>, AppError> {
    caller.require(Role::Admin, "change the refresh schedule")?;
    schedule
        .check()
        .map_err(|problem| AppError::invalid("schedule", problem))?;
    let value = serde_json::to_value(&schedule).expect("a schedule serialises");
    state.store.set_setting(SETTING, &value).await?;
    record(
        &state,
        &caller,
        "changed",
        Subject {
            kind: "schedule",
            id: SETTING.to_owned(),
            name: "refresh schedule",
        },
        Some(value),
    )
    .await?;
    Ok(Json(view(schedule)))
}
