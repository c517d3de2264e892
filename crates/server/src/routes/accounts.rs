//! The lifecycle of accounts over HTTP: admins disable, enable and unlock users, change their
//! role and sign them out everywhere; every user changes their own password. The use cases are
//! `segsync_app::users`'.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use segsync_app::users::{PasswordChange, RoleChange, UserView};
use uuid::Uuid;

use crate::auth::{Caller, hash_token, session_token};
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/disable",
    operation_id = "users_disable",
    tag = "users",
    responses(
        (status = OK, description = "Disabled: their sessions and API tokens ended at once", body = UserView),
        (status = CONFLICT, description = "`last_admin`: the last enabled admin stays", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<UserView>, AppError> {
    let admin = state.app.user_admin(&caller, "disable users")?;
    Ok(Json(admin.set_disabled(id, true).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/enable",
    operation_id = "users_enable",
    tag = "users",
    responses(
        (status = OK, description = "Enabled: they may sign in again", body = UserView),
    )
)]
pub(crate) async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<UserView>, AppError> {
    let admin = state.app.user_admin(&caller, "enable users")?;
    Ok(Json(admin.set_disabled(id, false).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/unlock",
    operation_id = "users_unlock",
    tag = "users",
    responses(
        (status = OK, description = "Unlocked: the user may sign in again at once, after too many failed sign-ins", body = UserView),
    )
)]
pub(crate) async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<UserView>, AppError> {
    let admin = state.app.user_admin(&caller, "unlock users")?;
    Ok(Json(admin.unlock(id).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/role",
    operation_id = "users_change_role",
    tag = "users",
    responses(
        (status = OK, description = "The role changed", body = UserView),
        (status = CONFLICT, description = "`last_admin`: the last enabled admin stays an admin", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(change): Json<RoleChange>,
) -> Result<Json<UserView>, AppError> {
    let admin = state.app.user_admin(&caller, "change roles")?;
    Ok(Json(admin.change_role(id, &change).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/sign-out",
    operation_id = "users_sign_out_everywhere",
    tag = "users",
    responses(
        (status = NO_CONTENT, description = "Every session and API token of the user ended"),
    )
)]
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    let admin = state.app.user_admin(&caller, "sign users out")?;
    admin.sign_out_everywhere(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    operation_id = "session_change_password",
    tag = "session",
    responses(
        (status = NO_CONTENT, description = "Changed: every other session and API token of yours ended"),
        (status = UNPROCESSABLE_ENTITY, description = "The current password is wrong, or the new one too short", body = crate::error::ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "`sign_in_locked`: too many wrong current passwords; `Retry-After` says when to try again", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(change): Json<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let this_session = session_token(&headers).map(|token| hash_token(&token));
    state
        .app
        .account(&caller)
        .change_password(change, this_session.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
