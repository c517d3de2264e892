//! The lifecycle of accounts: admins disable and enable users, change their role and sign them
//! out everywhere; every user changes their own password. Each change is audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use segsync_store::{Role, User};

use super::views::UserView;
use serde::Deserialize;
use uuid::Uuid;

use crate::audit::{Subject, record};
use crate::auth::{Caller, hash_token, session_token};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RoleChange {
    pub(crate) role: Role,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PasswordChange {
    pub(crate) current_password: String,
    pub(crate) new_password: String,
}

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
    caller.require(Role::Admin, "disable users")?;
    let user = state.store.set_user_disabled(id, true).await?;
    audit(&state, &caller, "disabled", &user, None).await?;
    Ok(Json(user.into()))
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
    caller.require(Role::Admin, "enable users")?;
    let user = state.store.set_user_disabled(id, false).await?;
    audit(&state, &caller, "enabled", &user, None).await?;
    Ok(Json(user.into()))
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
    caller.require(Role::Admin, "change roles")?;
    let before = state.store.user(id).await?;
    let user = state.store.set_user_role(id, change.role).await?;
    audit(
        &state,
        &caller,
        "role_changed",
        &user,
        Some(serde_json::json!({ "from": before.role, "to": user.role })),
    )
    .await?;
    Ok(Json(user.into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/sign-out",
    operation_id = "users_sign_out_everywhere",
    tag = "users",
    responses(
        (status = NO_CONTENT, description = "Every session of the user ended"),
    )
)]
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    caller.require(Role::Admin, "sign users out")?;
    let user = state.store.user(id).await?;
    let ended = state.store.end_user_sessions(id).await?;
    audit(
        &state,
        &caller,
        "signed_out_everywhere",
        &user,
        Some(serde_json::json!({ "sessions": ended })),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    operation_id = "session_change_password",
    tag = "session",
    responses(
        (status = NO_CONTENT, description = "Changed: every other session of yours ended"),
        (status = UNPROCESSABLE_ENTITY, description = "The current password is wrong, or the new one too short", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(change): Json<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let user = state.store.user(caller.user.id).await?;
    if !state
        .passwords
        .verify(user.password_hash.clone(), change.current_password)
        .await
    {
        return Err(AppError::invalid(
            "current_password",
            "this is not your current password",
        ));
    }
    let hash = state
        .passwords
        .hash(change.new_password)
        .await
        .map_err(|problem| AppError::invalid("new_password", problem))?;
    let this_session = session_token(&headers).map(|token| hash_token(&token));
    state
        .store
        .set_user_password(user.id, &hash, this_session.as_deref())
        .await?;
    audit(&state, &caller, "password_changed", &user, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audit(
    state: &AppState,
    caller: &Caller,
    action: &str,
    user: &User,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    record(
        state,
        caller,
        action,
        Subject {
            kind: "user",
            id: user.id.to_string(),
            name: &user.username,
        },
        detail,
    )
    .await
}
