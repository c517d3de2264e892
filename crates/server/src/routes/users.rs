//! Users (admins manage them) and the audit log (admins read it).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use segsync_store::{NewUser, Role};

use super::views::{AuditEntryView, UserView};
use serde::Deserialize;

use super::paging::{PageQuery, Paged};
use crate::audit::{Subject, record};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UserForm {
    pub(crate) username: String,
    pub(crate) display_name: Option<String>,
    pub(crate) role: Role,
    pub(crate) password: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "users_list",
    tag = "users",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [UserView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Paged<UserView>, ApiError> {
    caller.require(Role::Admin, "list users")?;
    Ok(page.of(state
        .store
        .users()
        .await?
        .into_iter()
        .map(UserView::from)
        .collect()))
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "users_create",
    tag = "users",
    responses(
        (status = CREATED, description = "Created", body = UserView),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<UserForm>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    caller.require(Role::Admin, "add users")?;
    let username = form.username.trim();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(
            "username",
            "1 to 64 characters without spaces",
        ));
    }
    let password_hash = state
        .passwords
        .hash(form.password.clone())
        .await
        .map_err(|problem| ApiError::invalid("password", problem))?;
    let user = state
        .store
        .create_user(&NewUser {
            username: username.to_owned(),
            display_name: form.display_name.unwrap_or_else(|| username.to_owned()),
            role: form.role,
            password_hash,
        })
        .await?;
    record(
        &state,
        &caller,
        "created",
        Subject {
            kind: "user",
            id: user.id.to_string(),
            name: &user.username,
        },
        Some(serde_json::json!({ "role": user.role })),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// Entries older than this one.
    pub(crate) before: Option<i64>,
    pub(crate) limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "users_audit_log",
    tag = "users",
    params(Page),
    responses(
        (status = OK, description = "Done", body = [AuditEntryView]),
    )
)]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    caller.require(Role::Admin, "read the audit log")?;
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let entries = state.store.audit_log(page.before, limit).await?;
    Ok(Json(
        entries.into_iter().map(AuditEntryView::from).collect(),
    ))
}
