//! API tokens for automation over HTTP: each user manages their own, and admins list and
//! revoke anyone's. A token is shown once, when made; the store keeps only its hash. The use cases are `segsync_app::users`'.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use segsync_app::users::{ApiTokenView, CreatedToken, NewToken};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/v1/me/tokens",
    operation_id = "tokens_create",
    tag = "session",
    responses(
        (status = CREATED, description = "The token is shown this once", body = CreatedToken),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let created = state.app.account(&caller).create_token(&new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    get,
    path = "/api/v1/me/tokens",
    operation_id = "tokens_list",
    tag = "session",
    responses(
        (status = OK, description = "Done", body = [ApiTokenView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiTokenView>>, AppError> {
    Ok(Json(state.app.account(&caller).tokens().await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/me/tokens/{id}",
    operation_id = "tokens_revoke",
    tag = "session",
    responses(
        (status = NO_CONTENT, description = "Revoked"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    state.app.account(&caller).revoke_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/tokens",
    operation_id = "users_tokens_list",
    tag = "users",
    responses(
        (status = OK, description = "The user's API tokens (never the tokens themselves)", body = [ApiTokenView]),
    )
)]
pub(crate) async fn list_of_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<ApiTokenView>>, AppError> {
    let admin = state
        .app
        .user_admin(&caller, "see other users' API tokens")?;
    Ok(Json(admin.tokens(id).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/tokens/{token_id}",
    operation_id = "users_tokens_revoke",
    tag = "users",
    responses(
        (status = NO_CONTENT, description = "Revoked"),
    )
)]
pub(crate) async fn revoke_of_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, token)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, AppError> {
    let admin = state
        .app
        .user_admin(&caller, "revoke other users' API tokens")?;
    admin.revoke_token(id, token).await?;
    Ok(StatusCode::NO_CONTENT)
}
