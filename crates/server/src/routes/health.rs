//! Liveness and readiness for orchestrators: alive while the process answers, ready while the
//! store does too.

use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health_healthz",
    tag = "health",
    responses(
        (status = OK, description = "The process is up", body = String),
    )
)]
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "health_readyz",
    tag = "health",
    responses(
        (status = OK, description = "The store answers", body = String),
        (status = SERVICE_UNAVAILABLE, description = "The store does not answer", body = String),
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the store does not answer")
    }
}
