//! The system refresh schedule over HTTP: everyone reads it with its next run; admins change
//! it. The use cases are `segsync_app::schedule`'.

use axum::Json;
use axum::extract::State;
use segsync_app::schedule::ScheduleView;
use segsync_domain::schedule::RefreshSchedule;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

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
    Ok(Json(state.app.schedule().await?))
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
    let admin = caller.admin("change the refresh schedule")?;
    Ok(Json(state.app.change_schedule(admin, schedule).await?))
}
