//! Users (admins manage them) and the audit log (admins read it).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveTime};
use segsync_store::{AuditFilter, NewUser, Role};
use uuid::Uuid;

use super::views::{AuditEntryView, UserView};
use serde::{Deserialize, Serialize};

use super::paging::{PageQuery, Paged};
use crate::audit::{Subject, record};
use crate::auth::{Caller, new_token};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UserForm {
    pub(crate) username: String,
    pub(crate) display_name: Option<String>,
    pub(crate) role: Role,
    /// Without it, a strong password is generated and answered once.
    #[serde(default)]
    pub(crate) password: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedUser {
    #[serde(flatten)]
    pub(crate) user: UserView,
    /// The password generated for the user when none was given: shown now and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) password: Option<String>,
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
) -> Result<Paged<UserView>, AppError> {
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
        (status = CREATED, description = "Created", body = CreatedUser),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<UserForm>,
) -> Result<(StatusCode, Json<CreatedUser>), AppError> {
    caller.require(Role::Admin, "add users")?;
    let username = form.username.trim();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err(AppError::invalid(
            "username",
            "1 to 64 characters without spaces",
        ));
    }
    let generated = form.password.is_none().then(|| new_token(""));
    let password = form
        .password
        .or_else(|| generated.clone())
        .unwrap_or_default();
    let password_hash = state
        .passwords
        .hash(password)
        .await
        .map_err(|problem| AppError::invalid("password", problem))?;
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
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: user.into(),
            password: generated,
        }),
    ))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Entries older than this one.
    pub(crate) before: Option<i64>,
    pub(crate) limit: Option<u32>,
    /// Only what this user did.
    pub(crate) actor_id: Option<Uuid>,
    /// Only this action: `created`, `changed`, `ran`, `removed`, …
    pub(crate) action: Option<String>,
    /// Only what was done to this kind of thing: `export`, `segment`, `user`, …
    pub(crate) kind: Option<String>,
    /// Only from this UTC day on (`YYYY-MM-DD`).
    pub(crate) since: Option<NaiveDate>,
    /// Only up to and including this UTC day (`YYYY-MM-DD`).
    pub(crate) until: Option<NaiveDate>,
}

impl AuditQuery {
    pub(crate) fn filter(&self) -> AuditFilter {
        let start_of = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
        let blank_is_none =
            |text: &Option<String>| text.as_ref().filter(|text| !text.is_empty()).cloned();
        AuditFilter {
            actor_id: self.actor_id,
            action: blank_is_none(&self.action),
            object_kind: blank_is_none(&self.kind),
            since: self.since.map(start_of),
            until: self.until.and_then(|day| day.succ_opt()).map(start_of),
        }
    }
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
    caller.require(Role::Admin, "read the audit log")?;
    if let (Some(since), Some(until)) = (query.since, query.until)
        && until < since
    {
        return Err(AppError::invalid("until", "a day on or after since"));
    }
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let entries = state
        .store
        .audit_log(&query.filter(), query.before, limit)
        .await?;
    Ok(Json(
        entries.into_iter().map(AuditEntryView::from).collect(),
    ))
}
