//! Exclusions over HTTP: the addresses no export may send, kept by admins as keyed hashes. The
//! use cases are `segsync_app::exclusions`'.

use axum::Json;
use axum::extract::State;
use segsync_app::exclusions::{ExclusionsChange, ExclusionsForm, ExclusionsView};

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// The stored exclusions (keyed hashes, never addresses) and the configured exclusions source.
#[utoipa::path(
    get,
    path = "/api/v1/exclusions",
    operation_id = "exclusions_list",
    tag = "exclusions",
    responses(
        (status = OK, description = "Done", body = ExclusionsView),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ExclusionsView>, AppError> {
    let admin = state.app.exclusion_admin(&caller, "read the exclusions")?;
    Ok(Json(admin.list().await?))
}

/// Excludes addresses from every export: each entry of `emails` is an address, several lines of
/// them, or a whole CSV file whose header names an `email` column. Values that are not
/// addresses are refused by line; the rest are kept.
#[utoipa::path(
    post,
    path = "/api/v1/exclusions",
    operation_id = "exclusions_add",
    tag = "exclusions",
    request_body = ExclusionsForm,
    responses(
        (status = OK, description = "Done", body = ExclusionsChange),
    )
)]
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<ExclusionsForm>,
) -> Result<Json<ExclusionsChange>, AppError> {
    let admin = state.app.exclusion_admin(&caller, "exclude addresses")?;
    Ok(Json(admin.add(&form).await?))
}

/// Lets exports send addresses again.
#[utoipa::path(
    post,
    path = "/api/v1/exclusions/remove",
    operation_id = "exclusions_remove",
    tag = "exclusions",
    request_body = ExclusionsForm,
    responses(
        (status = OK, description = "Done", body = ExclusionsChange),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<ExclusionsForm>,
) -> Result<Json<ExclusionsChange>, AppError> {
    let admin = state.app.exclusion_admin(&caller, "remove exclusions")?;
    Ok(Json(admin.remove(&form).await?))
}
