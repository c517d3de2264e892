//! Personal data over HTTP: erasure per person, subject access, and what the store holds
//! that ages out; admins only. The use cases are `segsync_app::privacy`'.

use axum::Json;
use axum::extract::{Path, Query, State};
use segsync_app::privacy::retention::HeldView;
use segsync_app::privacy::{ErasureForm, ErasureRequested, ErasureView, SubjectAccess};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// Erases people: each entry of `emails` is an address, several lines of them, or a whole CSV
/// file whose header names an `email` column. Their tombstones are in force when this answers
/// (no export sends them again); the erasure then purges the store and takes them off every
/// list segsync's exports manage. Poll `GET /api/v1/privacy/erasures/{id}` for its receipt.
#[utoipa::path(
    post,
    path = "/api/v1/privacy/erasures",
    operation_id = "privacy_erase",
    tag = "privacy",
    request_body = ErasureForm,
    responses(
        (status = ACCEPTED, description = "The erasure, requested", body = ErasureRequested),
    )
)]
pub(crate) async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<ErasureForm>,
) -> Result<(axum::http::StatusCode, Json<ErasureRequested>), AppError> {
    let privacy = state.app.privacy(&caller, "erase people")?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(privacy.erase(&form).await?),
    ))
}

/// The latest erasures, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/privacy/erasures",
    operation_id = "privacy_erasures",
    tag = "privacy",
    responses(
        (status = OK, description = "Done", body = [ErasureView]),
    )
)]
pub(crate) async fn erasures(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ErasureView>>, AppError> {
    let privacy = state.app.privacy(&caller, "read erasures")?;
    Ok(Json(privacy.erasures().await?))
}

/// One erasure: its state and receipt (people named by keyed hash only).
#[utoipa::path(
    get,
    path = "/api/v1/privacy/erasures/{id}",
    operation_id = "privacy_erasure",
    tag = "privacy",
    responses(
        (status = OK, description = "Done", body = ErasureView),
    )
)]
pub(crate) async fn erasure(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<ErasureView>, AppError> {
    let privacy = state.app.privacy(&caller, "read erasures")?;
    Ok(Json(privacy.erasure(id).await?))
}

/// Carries a failed erasure out again.
#[utoipa::path(
    post,
    path = "/api/v1/privacy/erasures/{id}/retry",
    operation_id = "privacy_erasure_retry",
    tag = "privacy",
    responses(
        (status = OK, description = "Done", body = ErasureView),
    )
)]
pub(crate) async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<ErasureView>, AppError> {
    let privacy = state.app.privacy(&caller, "retry erasures")?;
    Ok(Json(privacy.retry(id).await?))
}

/// The address looked up.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct LookupQuery {
    email: String,
}

/// What segsync holds about an address: which exports sent it, when and to which lists, the
/// fields they send, runs that skipped it, opt-outs, exclusion and erasure. Audited by keyed
/// hash.
#[utoipa::path(
    get,
    path = "/api/v1/privacy/lookup",
    operation_id = "privacy_lookup",
    tag = "privacy",
    params(LookupQuery),
    responses(
        (status = OK, description = "Done", body = SubjectAccess),
    )
)]
pub(crate) async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<LookupQuery>,
) -> Result<Json<SubjectAccess>, AppError> {
    let privacy = state.app.privacy(&caller, "look people up")?;
    Ok(Json(privacy.lookup(&query.email).await?))
}

/// What the store holds that ages out, and when the oldest of each goes.
#[utoipa::path(
    get,
    path = "/api/v1/privacy/held",
    operation_id = "privacy_held",
    tag = "privacy",
    responses(
        (status = OK, description = "Done", body = HeldView),
    )
)]
pub(crate) async fn held(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<HeldView>, AppError> {
    let privacy = state.app.privacy(&caller, "read what is held")?;
    Ok(Json(privacy.held().await?))
}
