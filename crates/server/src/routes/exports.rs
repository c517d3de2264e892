//! Exports over HTTP: the use cases are `segsync_app::exports`'; these routes read the request
//! and answer with what the use case returns.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use segsync_app::exports::{ExportForm, ExportView};
use uuid::Uuid;

use super::paging::{PageQuery, Paged};
use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/exports",
    operation_id = "exports_list",
    tag = "exports",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [ExportView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Paged<ExportView>, AppError> {
    let exports = state.app.exports(&caller);
    let mut page = page.of(exports.all().await?);
    let mut views = Vec::new();
    for export in std::mem::take(&mut page.items) {
        views.push(exports.view(export).await?);
    }
    Ok(page.with_items(views))
}

#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}",
    operation_id = "exports_get",
    tag = "exports",
    responses(
        (status = OK, description = "Done", body = ExportView),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<ExportView>, AppError> {
    Ok(Json(state.app.exports(&caller).get(id).await?))
}

/// Saves a new export. It does not run.
#[utoipa::path(
    post,
    path = "/api/v1/exports",
    operation_id = "exports_create",
    tag = "exports",
    responses(
        (status = CREATED, description = "Saved; nothing runs", body = ExportView),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<ExportForm>,
) -> Result<(StatusCode, Json<ExportView>), AppError> {
    let changes = state.app.export_changes(&caller, "configure exports")?;
    Ok((StatusCode::CREATED, Json(changes.create(&form).await?)))
}

#[utoipa::path(
    put,
    path = "/api/v1/exports/{id}",
    operation_id = "exports_update",
    tag = "exports",
    responses(
        (status = OK, description = "Done", body = ExportView),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(form): Json<ExportForm>,
) -> Result<Json<ExportView>, AppError> {
    let changes = state.app.export_changes(&caller, "change this export")?;
    Ok(Json(changes.update(id, &form).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/duplicate",
    operation_id = "exports_duplicate",
    tag = "exports",
    responses(
        (status = CREATED, description = "Created", body = ExportView),
    )
)]
pub(crate) async fn duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<ExportView>), AppError> {
    let changes = state.app.export_changes(&caller, "duplicate this export")?;
    Ok((StatusCode::CREATED, Json(changes.duplicate(id).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/detach",
    operation_id = "exports_detach",
    tag = "exports",
    responses(
        (status = OK, description = "Done", body = ExportView),
    )
)]
pub(crate) async fn detach(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<ExportView>, AppError> {
    let changes = state.app.export_changes(&caller, "detach this export")?;
    Ok(Json(changes.detach(id).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/exports/{id}",
    operation_id = "exports_remove",
    tag = "exports",
    responses(
        (status = NO_CONTENT, description = "Removed"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    let changes = state.app.export_changes(&caller, "remove this export")?;
    changes.remove(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
