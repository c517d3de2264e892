//! Runs over HTTP: run an export now, run all scheduled exports, cancel, dry-run, and read runs
//! with their progress and report. The use cases are `segsync_app::runs`'; these routes read
//! the request and answer with what the use case returns.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use segsync_app::runs::{RunAllView, RunOptions, RunView};
use segsync_store::{RunFilter, RunStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::paging::{PageQuery, Paged};
use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// Runs an export now: members new or changed since it last sent them, or everyone with
/// `full_resync=true`. A run already queued or running answers 409 with its id.
#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/run",
    operation_id = "runs_run_now",
    tag = "runs",
    params(RunOptions),
    responses(
        (status = ACCEPTED, description = "Queued", body = RunView),
        (status = CONFLICT, description = "`run_in_progress` with `details.run_id`, or `export_detached`, or `no_export_user`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn run_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(options): Query<RunOptions>,
) -> Result<(StatusCode, Json<RunView>), AppError> {
    let control = state.app.run_control(&caller, "run this export")?;
    Ok((
        StatusCode::ACCEPTED,
        Json(control.run_now(id, options).await?),
    ))
}

/// Reads the export's list back now, as a run that sends nothing: what the list holds against
/// what the export means it to hold, missing and extra members by cause (the run's report's
/// `verification`), the ledger corrected so that the next run adds back what someone removed.
/// A run already queued or running answers 409 with its id.
#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/verify",
    operation_id = "runs_verify_now",
    tag = "runs",
    responses(
        (status = ACCEPTED, description = "Queued", body = RunView),
        (status = CONFLICT, description = "`run_in_progress` with `details.run_id`, or `export_detached`, or `no_export_user`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn verify_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<RunView>), AppError> {
    let control = state
        .app
        .run_control(&caller, "read this export's list back")?;
    Ok((StatusCode::ACCEPTED, Json(control.verify_now(id).await?)))
}

/// Runs every export with an active schedule that the caller may run, as "Run all" does in the
/// original: exports already running are recorded as Skipped with the reason.
#[utoipa::path(
    post,
    path = "/api/v1/exports/run-all",
    operation_id = "runs_run_all",
    tag = "runs",
    responses(
        (status = ACCEPTED, description = "Accepted", body = RunAllView),
    )
)]
pub(crate) async fn run_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<RunAllView>), AppError> {
    let control = state.app.run_control(&caller, "run exports")?;
    Ok((StatusCode::ACCEPTED, Json(control.run_all().await?)))
}

/// An export's runs, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}/runs",
    operation_id = "runs_history",
    tag = "runs",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [RunView]),
    )
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(page): Query<PageQuery>,
) -> Result<Paged<RunView>, AppError> {
    let runs = state
        .app
        .runs(&caller)
        .history(id, page.limit() + 1, page.offset())
        .await?;
    Ok(page.page_of_one_more(runs))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunsQuery {
    /// Only runs in this status.
    pub(crate) status: Option<RunStatus>,
}

/// Every run, newest first, optionally in one status: the Status page.
#[utoipa::path(
    get,
    path = "/api/v1/runs",
    operation_id = "runs_list",
    tag = "runs",
    params(RunsQuery, PageQuery),
    responses(
        (status = OK, description = "Done", body = [RunView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RunsQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Paged<RunView>, AppError> {
    let filter = RunFilter {
        status: query.status,
        ..RunFilter::default()
    };
    let runs = state
        .app
        .runs(&caller)
        .list(&filter, page.limit() + 1, page.offset())
        .await?;
    Ok(page.page_of_one_more(runs))
}

#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}",
    operation_id = "runs_get",
    tag = "runs",
    responses(
        (status = OK, description = "Done", body = RunView),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<RunView>, AppError> {
    Ok(Json(state.app.runs(&caller).get(id).await?))
}

/// Asks a queued or running run to stop: a queued one ends at once, a running one after its
/// batch in flight; a run awaiting confirmation is discarded.
#[utoipa::path(
    post,
    path = "/api/v1/runs/{id}/cancel",
    operation_id = "runs_cancel",
    tag = "runs",
    responses(
        (status = ACCEPTED, description = "Accepted", body = RunView),
        (status = CONFLICT, description = "`run_ended`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<RunView>), AppError> {
    let control = state
        .app
        .run_control(&caller, "cancel runs of this export")?;
    Ok((StatusCode::ACCEPTED, Json(control.cancel(id).await?)))
}

/// Lets a run a guard stopped go on: it is queued again, allowed to remove as many contacts as
/// it planned (a run that finds more stops again). For admins and the export's managers.
#[utoipa::path(
    post,
    path = "/api/v1/runs/{id}/confirm",
    operation_id = "runs_confirm",
    tag = "runs",
    responses(
        (status = OK, description = "Queued again", body = RunView),
        (status = CONFLICT, description = "`not_awaiting_confirmation`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<RunView>, AppError> {
    let control = state
        .app
        .run_control(&caller, "confirm runs of this export")?;
    Ok(Json(control.confirm(id).await?))
}

/// Ends a run a guard stopped, sending nothing: it is cancelled and frees its export.
#[utoipa::path(
    post,
    path = "/api/v1/runs/{id}/discard",
    operation_id = "runs_discard",
    tag = "runs",
    responses(
        (status = OK, description = "Discarded", body = RunView),
        (status = CONFLICT, description = "`not_awaiting_confirmation`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn discard(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<RunView>, AppError> {
    let control = state
        .app
        .run_control(&caller, "discard runs of this export")?;
    Ok(Json(control.discard(id).await?))
}

/// What a run of the export would do, sending nothing: members it would add, update and leave
/// unchanged, members it would remove (mirror mode), skips by reason with samples, and the
/// requests it needs against the quota left today.
#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/dry-run",
    operation_id = "runs_dry_run",
    tag = "runs",
    params(RunOptions),
    responses(
        (status = OK, description = "What a run would do", body = segsync_export::DryRunReport),
        (status = CONFLICT, description = "`cannot_run`: why a run could not start", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(options): Query<RunOptions>,
) -> Result<Json<segsync_export::DryRunReport>, AppError> {
    let control = state.app.run_control(&caller, "dry-run this export")?;
    Ok(Json(control.dry_run(id, options).await?))
}

/// Every member the run left out because of its email, as CSV (`email,reason`).
#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}/skipped.csv",
    operation_id = "runs_skipped_csv",
    tag = "runs",
    responses(
        (status = OK, description = "email,reason", content_type = "text/csv", body = String),
    )
)]
pub(crate) async fn skipped_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<impl axum::response::IntoResponse, AppError> {
    let chunks = state.app.runs(&caller).skipped_csv(id).await?;
    let body = futures_util::stream::unfold(chunks, |mut chunks| async move {
        chunks.recv().await.map(|chunk| (chunk, chunks))
    });
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"run-{id}-skipped.csv\""),
            ),
        ],
        axum::body::Body::from_stream(body),
    ))
}
