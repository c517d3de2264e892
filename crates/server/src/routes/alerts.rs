//! Alert webhooks: admins see which are configured and send each a test post.

use axum::Json;
use axum::extract::State;
use segsync_app::alerts::{TestPost, WebhookView};

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    operation_id = "alerts_list",
    tag = "alerts",
    responses(
        (status = OK, description = "Done", body = Vec<WebhookView>),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WebhookView>>, AppError> {
    let alerts = state.app.alert_admin(&caller, "see the alert webhooks")?;
    Ok(Json(alerts.webhooks().await?))
}

/// Posts a `ping` event to every webhook and says what each answered.
#[utoipa::path(
    post,
    path = "/api/v1/alerts/test",
    operation_id = "alerts_test",
    tag = "alerts",
    responses(
        (status = OK, description = "Done", body = Vec<TestPost>),
    )
)]
pub(crate) async fn test(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TestPost>>, AppError> {
    let alerts = state.app.alert_admin(&caller, "test the alert webhooks")?;
    Ok(Json(alerts.test().await?))
}
