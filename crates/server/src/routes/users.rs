//! Users (admins manage them) and the audit log (admins read it) over HTTP. The use cases are
//! `segsync_app::users`'; these routes read the request and answer with what it returns.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use segsync_app::users::{AuditEntryView, AuditQuery, CreatedUser, UserForm, UserView};

use super::paging::{PageQuery, Paged};
use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

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
) -> Result<Paged<UserView>, AppError> {
    let admin = state.app.user_admin(&caller, "list users")?;
    Ok(page.of(admin.all().await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "users_create",
    tag = "users",
    responses(
        (status = CREATED, description = "Created", body = CreatedUser),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<UserForm>,
) -> Result<(StatusCode, Json<CreatedUser>), AppError> {
    let admin = state.app.user_admin(&caller, "add users")?;
    Ok((StatusCode::CREATED, Json(admin.create(form).await?)))
}

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "users_audit_log",
    tag = "users",
    params(AuditQuery),
    responses(
        (status = OK, description = "Done", body = [AuditEntryView]),
    )
)]
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntryView>>, AppError> {
    let admin = state.app.user_admin(&caller, "read the audit log")?;
    Ok(Json(admin.audit_log(&query).await?))
}
