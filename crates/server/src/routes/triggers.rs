//! A pipeline's word over HTTP: `POST /api/v1/triggers/source-changed`. An API token scoped to
//! `trigger` may call this and read runs, nothing else. The use case is
//! `segsync_app::triggers`'.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use segsync_app::triggers::{SourceChanged, TriggerAnswer};

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// Says a source changed (`source`: `profiles` or a related table's name; none: every source):
/// the exports whose schedule follows the data and that read it start now, within `[schedule]
/// max_runs_per_day` and `min_minutes_between`. Answers the runs started — follow each with
/// `GET /api/v1/runs/{id}` until it ends — and the exports held back, with why.
#[utoipa::path(
    post,
    path = "/api/v1/triggers/source-changed",
    operation_id = "triggers_source_changed",
    tag = "runs",
    request_body = SourceChanged,
    responses(
        (status = ACCEPTED, description = "The runs started and the exports held back", body = TriggerAnswer),
    )
)]
pub(crate) async fn source_changed(
    State(state): State<AppState>,
    caller: Caller,
    Json(changed): Json<SourceChanged>,
) -> Result<(StatusCode, Json<TriggerAnswer>), AppError> {
    let triggers = state.app.triggers(&caller, "start runs")?;
    Ok((
        StatusCode::ACCEPTED,
        Json(triggers.source_changed(&changed).await?),
    ))
}
