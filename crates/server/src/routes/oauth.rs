//! "Authenticate with Constant Contact" over HTTP: an admin starts the authorization-code flow
//! for a connection (`segsync_app::connections`' OAuth use case) and the browser comes back to
//! `/oauth/callback`, which finishes it and sends the browser on to the console.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use segsync_app::connections::{AuthorizationStarted, OAuthRedirect};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/authorize",
    operation_id = "oauth_start",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = AuthorizationStarted),
    )
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<AuthorizationStarted>, AppError> {
    let admin = state
        .app
        .connection_admin(&caller, "authenticate connections")?;
    let redirect_uri = state.config.oauth_callback_url();
    Ok(Json(admin.start_authorization(id, &redirect_uri).await?))
}

/// Where the browser lands, and where it is sent on to: the connection's page, with what
/// happened.
#[utoipa::path(
    get,
    path = "/oauth/callback",
    operation_id = "oauth_callback",
    tag = "connections",
    params(OAuthRedirect),
    responses(
        (status = SEE_OTHER, description = "Back to the console: the connection, or the connections list with `oauth_error`"),
    )
)]
pub(crate) async fn callback(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Query(redirect): Query<OAuthRedirect>,
) -> Response {
    let caller = caller.ok();
    let finished = state
        .app
        .finish_authorization(caller.as_deref(), redirect)
        .await;
    match finished {
        Ok(connection_id) => see_other(
            &state,
            &format!("connections/{connection_id}?authenticated=1"),
        ),
        Err(error) => {
            let message: String =
                url::form_urlencoded::byte_serialize(error.message.as_bytes()).collect();
            see_other(&state, &format!("connections?oauth_error={message}"))
        }
    }
}

fn see_other(state: &AppState, path: &str) -> Response {
    let location = state
        .config
        .public_url
        .join(path)
        .map(String::from)
        .unwrap_or_else(|_| "/".to_owned());
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}
