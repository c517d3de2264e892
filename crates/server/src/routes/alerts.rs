//! Alert webhooks: admins see which are configured and send each a test post.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::alerts::last_delivery::{self, LastDelivery};
use crate::alerts::{TestPost, test_every_webhook};
use crate::audit::{Subject, record};
use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// A configured webhook, without its URL's path or its secret, which may hold tokens.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookView {
    /// Its place in `[[alerts.webhooks]]`, from 0.
    pub(crate) webhook: usize,
    pub(crate) host: String,
    /// The events it is sent; every event when empty.
    pub(crate) events: Vec<&'static str>,
    /// Whether its posts are signed.
    pub(crate) signed: bool,
    /// Its last post (an alert or a test) and what it answered.
    pub(crate) last_delivery: Option<LastDelivery>,
}

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
    caller.admin("see the alert webhooks")?;
    let mut views = Vec::new();
    for (index, webhook) in state.config.alerts.webhooks.iter().enumerate() {
        views.push(WebhookView {
            webhook: index,
            host: webhook.url.host_str().unwrap_or("").to_owned(),
            events: webhook.events.iter().map(|event| event.as_str()).collect(),
            signed: webhook.secret.is_some(),
            last_delivery: last_delivery::read(&state, webhook).await?,
        });
    }
    Ok(Json(views))
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
    caller.admin("test the alert webhooks")?;
    let posts = test_every_webhook(&state).await;
    record(
        &state,
        &caller,
        "tested",
        Subject {
            kind: "alerts",
            id: "webhooks".to_owned(),
            name: "alert webhooks",
        },
        Some(serde_json::to_value(&posts).expect("results serialise")),
    )
    .await?;
    Ok(Json(posts))
}
