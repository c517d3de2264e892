//! Segments over HTTP: everyone signed in reads them and previews their members; contributors
//! and admins create, change, (de)activate, remove, import and export them. The use cases are
//! `segsync_app::segments`'; these routes read the request and answer with what it returns.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use segsync_app::segments::{Imported, Preview, SegmentBody, SegmentFile, SegmentView};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::paging::{PageQuery, Paged};
use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/segments",
    operation_id = "segments_list",
    tag = "segments",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [SegmentView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Paged<SegmentView>, AppError> {
    Ok(page.of(state.app.segments(&caller).all().await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/segments/{id}",
    operation_id = "segments_get",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<SegmentView>, AppError> {
    Ok(Json(state.app.segments(&caller).get(id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/segments",
    operation_id = "segments_create",
    tag = "segments",
    responses(
        (status = CREATED, description = "Created", body = SegmentView),
        (status = UNPROCESSABLE_ENTITY, description = "`invalid_segment`, each problem at its rule in `details.errors`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SegmentBody>,
) -> Result<(StatusCode, Json<SegmentView>), AppError> {
    let changes = state.app.segment_changes(&caller, "create segments")?;
    Ok((StatusCode::CREATED, Json(changes.create(&body).await?)))
}

#[utoipa::path(
    put,
    path = "/api/v1/segments/{id}",
    operation_id = "segments_update",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<SegmentBody>,
) -> Result<Json<SegmentView>, AppError> {
    let changes = state.app.segment_changes(&caller, "change segments")?;
    Ok(Json(changes.update(id, &body).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/segments/{id}",
    operation_id = "segments_remove",
    tag = "segments",
    responses(
        (status = NO_CONTENT, description = "Removed"),
        (status = CONFLICT, description = "Exports send it (`segment_in_use` with `details.exports`) or other segments refer to it (`segment_in_use` with `details.segments`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    let changes = state.app.segment_changes(&caller, "remove segments")?;
    changes.remove(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/segments/{id}/activate",
    operation_id = "segments_activate",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<SegmentView>, AppError> {
    let changes = state
        .app
        .segment_changes(&caller, "activate or deactivate segments")?;
    Ok(Json(changes.set_active(id, true).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/segments/{id}/deactivate",
    operation_id = "segments_deactivate",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<SegmentView>, AppError> {
    let changes = state
        .app
        .segment_changes(&caller, "activate or deactivate segments")?;
    Ok(Json(changes.set_active(id, false).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Validation {
    pub(crate) valid: bool,
    /// The profiles it holds now, when asked for with `count=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) members: Option<u64>,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ValidateQuery {
    /// Also count the members the definition holds now (one pass over the profiles).
    #[serde(default)]
    pub(crate) count: bool,
}

/// Checks a definition without saving it; problems come back as an `invalid_segment` error
/// with each one's rule path in `details.errors`. With `count=true`, a valid definition's
/// members are counted too, as a builder shows them while a rule is written.
#[utoipa::path(
    post,
    path = "/api/v1/segments/validate",
    operation_id = "segments_validate",
    tag = "segments",
    params(ValidateQuery),
    responses(
        (status = OK, description = "Done", body = Validation),
        (status = UNPROCESSABLE_ENTITY, description = "`invalid_segment`, each problem at its rule in `details.errors`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ValidateQuery>,
    Json(body): Json<SegmentBody>,
) -> Result<Json<Validation>, AppError> {
    let segments = state.app.segments(&caller);
    let members = if query.count {
        Some(segments.count_written(&body).await?)
    } else {
        segments.check(&body).await?;
        None
    };
    Ok(Json(Validation {
        valid: true,
        members,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/segments/{id}/preview",
    operation_id = "segments_preview",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = Preview),
    )
)]
pub(crate) async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Preview>, AppError> {
    Ok(Json(state.app.segments(&caller).preview(id).await?))
}

/// Every segment as one YAML file, the format `segsync segments check` reads.
#[utoipa::path(
    get,
    path = "/api/v1/segments/yaml",
    operation_id = "segments_export_yaml",
    tag = "segments",
    responses(
        (status = OK, description = "Every segment as a segment file", content_type = "application/yaml", body = SegmentFile),
    )
)]
pub(crate) async fn export_yaml(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, AppError> {
    let yaml = state.app.segments(&caller).file().await?.to_yaml()?;
    Ok(([(header::CONTENT_TYPE, "application/yaml")], yaml))
}

/// Reads a YAML file of segments. All or nothing: with any problem, nothing is saved and every
/// problem is reported. Segments whose names exist are updated.
#[utoipa::path(
    post,
    path = "/api/v1/segments/yaml",
    operation_id = "segments_import_yaml",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = Imported),
    )
)]
pub(crate) async fn import_yaml(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<Imported>, AppError> {
    let changes = state.app.segment_changes(&caller, "import segments")?;
    Ok(Json(changes.import_yaml(&body).await?))
}
