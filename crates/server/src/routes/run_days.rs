//! Runs per day by outcome, for the last days, over HTTP: what the Status page draws. Everyone
//! reads; the use case is `segsync_app::runs`'.

use axum::Json;
use axum::extract::{Query, State};
use segsync_app::runs::RunDay;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DaysQuery {
    /// Days to cover, today included: 14 unless given, at most 366.
    pub(crate) days: Option<u32>,
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
    caller: Caller,
    Query(query): Query<DaysQuery>,
) -> Result<Json<Vec<RunDay>>, AppError> {
    let days = query.days.unwrap_or(14);
    Ok(Json(state.app.runs(&caller).per_day(days).await?))
}
