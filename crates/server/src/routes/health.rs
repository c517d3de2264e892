//! Liveness and readiness for orchestrators: alive while the process answers, ready while the
//! store does too. With a cluster, readiness also says what it can do now (executors alive and
//! their task slots) — in words, since the console and the API stay useful without it.

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
        (status = OK, description = "The store answers; with a cluster, a second line says what it can do now", body = String),
        (status = SERVICE_UNAVAILABLE, description = "The store does not answer", body = String),
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    if !state.store.is_ready().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the store does not answer".to_owned(),
        );
    }
    match state.app.cluster_readiness().await {
        Some(cluster) => (StatusCode::OK, format!("ready\n{cluster}")),
        None => (StatusCode::OK, "ready".to_owned()),
    }
}
