//! What admins see of the server itself: what it reads its profiles from and whether that opens
//! now, the cluster it evaluates segments on, today's Constant Contact request budget of each API
//! key, and its build and store.

use axum::Json;
use axum::extract::State;
use segsync_app::system::{AboutView, ClusterView, ProfileSourceView, QuotaView};

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/system/profiles",
    operation_id = "system_profiles",
    tag = "system",
    responses(
        (status = OK, description = "Done", body = ProfileSourceView),
    )
)]
pub(crate) async fn profiles(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProfileSourceView>, AppError> {
    let system = state.app.system(&caller, "see the profile source")?;
    Ok(Json(system.profile_source().await))
}

#[utoipa::path(
    get,
    path = "/api/v1/system/about",
    operation_id = "system_about",
    tag = "system",
    responses(
        (status = OK, description = "Done", body = AboutView),
    )
)]
pub(crate) async fn about(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AboutView>, AppError> {
    Ok(Json(
        state.app.system(&caller, "see the server's build")?.about(),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/system/quota",
    operation_id = "system_quota",
    tag = "system",
    responses(
        (status = OK, description = "Done", body = Vec<QuotaView>),
    )
)]
pub(crate) async fn quota(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<QuotaView>>, AppError> {
    let system = state.app.system(&caller, "see the request quota")?;
    Ok(Json(system.quota().await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/system/cluster",
    operation_id = "system_cluster",
    tag = "system",
    responses(
        (status = OK, description = "What the cluster's scheduler says now (no scheduler when segments are evaluated by each node)", body = ClusterView),
    )
)]
pub(crate) async fn cluster(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ClusterView>, AppError> {
    let system = state.app.system(&caller, "see the cluster")?;
    Ok(Json(system.cluster().await))
}
