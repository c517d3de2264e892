//! Liveness and readiness for orchestrators: alive while the process answers, ready while the
//! store does too.

use axum::extract::State;
use axum::http::StatusCode;

use crate::state::AppState;

pub(super) async fn healthz() -> &'static str {
    "ok"
}

pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.store.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the store does not answer")
    }
}
