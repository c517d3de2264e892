//! Connections to Constant Contact. Admins create, change, authenticate and remove them;
//! contributors see the name and type of those shared with them, and never any secret.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use segsync_store::{Connection, Health, NewConnection, Role, UsableBy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::paging::{PageQuery, Paged};
use crate::audit::{Subject, record};
use crate::auth::Caller;
use crate::error::client_failure;
use crate::error::{AppError, Code};
use crate::state::AppState;

/// The data-privacy and compliance terms an admin agrees to when adding a connection.
pub(crate) const CONSENT_TEXT: &str = "Data privacy and compliance: by connecting, you let segsync send the customer data of the \
selected segments (email addresses and the attributes you map) to Constant Contact, where it is governed by Constant Contact's terms \
and privacy policy. You confirm that your organisation may share this data with Constant Contact and that the contacts may be \
emailed under the laws that apply to you.";

/// What admins see of a connection.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConnectionView {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) usable_by: UsableBy,
    pub(crate) health: Health,
    pub(crate) health_reason: Option<String>,
    pub(crate) consent_by: Uuid,
    pub(crate) consent_at: DateTime<Utc>,
    pub(crate) export_user_id: Option<Uuid>,
    pub(crate) exports: Vec<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// What contributors and viewers see: enough to pick it, nothing more. It has no other
/// fields, so that a full view is never taken for one (`additionalProperties: false`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectionSummary {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) kind: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum Visible {
    Full(Box<ConnectionView>),
    Summary(ConnectionSummary),
}

async fn view(state: &AppState, connection: Connection) -> Result<ConnectionView, AppError> {
    let exports = state.store.exports_using_connection(connection.id).await?;
    Ok(ConnectionView {
        id: connection.id,
        name: connection.name,
        kind: "constant_contact",
        usable_by: connection.usable_by,
        health: connection.health,
        health_reason: connection.health_reason,
        consent_by: connection.consent_by,
        consent_at: connection.consent_at,
        export_user_id: connection.export_user_id,
        exports,
        created_at: connection.created_at,
        updated_at: connection.updated_at,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/connections",
    operation_id = "connections_list",
    tag = "connections",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [Visible]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Paged<Visible>, AppError> {
    let mut connections = state.store.connections().await?;
    if caller.user.role != Role::Admin {
        connections.retain(|connection| connection.usable_by == UsableBy::AdminsAndContributors);
    }
    let mut page = page.of(connections);
    let mut visible = Vec::new();
    for connection in std::mem::take(&mut page.items) {
        if caller.user.role == Role::Admin {
            visible.push(Visible::Full(Box::new(view(&state, connection).await?)));
        } else {
            visible.push(Visible::Summary(ConnectionSummary {
                id: connection.id,
                name: connection.name,
                kind: "constant_contact",
            }));
        }
    }
    Ok(page.with_items(visible))
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}",
    operation_id = "connections_get",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = Visible),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Visible>, AppError> {
    let connection = state.store.connection(id).await?;
    if caller.user.role == Role::Admin {
        return Ok(Json(Visible::Full(Box::new(
            view(&state, connection).await?,
        ))));
    }
    if connection.usable_by != UsableBy::AdminsAndContributors {
        return Err(AppError::forbidden("see this connection"));
    }
    Ok(Json(Visible::Summary(ConnectionSummary {
        id: connection.id,
        name: connection.name,
        kind: "constant_contact",
    })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConsentText {
    pub(crate) text: &'static str,
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/consent-text",
    operation_id = "connections_consent_text",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = ConsentText),
    )
)]
pub(crate) async fn consent_text(_caller: Caller) -> Json<ConsentText> {
    Json(ConsentText { text: CONSENT_TEXT })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ConnectionForm {
    pub(crate) name: String,
    #[serde(default = "admins_only")]
    pub(crate) usable_by: UsableBy,
    /// "I agree" to the data-privacy and compliance terms.
    #[serde(default)]
    pub(crate) consent: bool,
}

fn admins_only() -> UsableBy {
    UsableBy::Admins
}

fn checked_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "a display name of 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

#[utoipa::path(
    post,
    path = "/api/v1/connections",
    operation_id = "connections_create",
    tag = "connections",
    responses(
        (status = CREATED, description = "Created", body = ConnectionView),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<ConnectionForm>,
) -> Result<(StatusCode, Json<ConnectionView>), AppError> {
    caller.require(Role::Admin, "add connections")?;
    let name = checked_name(&form.name)?;
    if !form.consent {
        return Err(AppError::new(
            Code::ConsentRequired,
            "consent: agree to the data-privacy and compliance terms to add a connection",
        ));
    }
    let connection = state
        .store
        .create_connection(&NewConnection {
            name,
            usable_by: form.usable_by,
            created_by: caller.user.id,
        })
        .await?;
    audit(
        &state,
        &caller,
        "created",
        &connection,
        Some(serde_json::json!({ "usable_by": connection.usable_by, "consent": true })),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&state, connection).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ConnectionChange {
    pub(crate) name: Option<String>,
    pub(crate) usable_by: Option<UsableBy>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/connections/{id}",
    operation_id = "connections_update",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = ConnectionView),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(change): Json<ConnectionChange>,
) -> Result<Json<ConnectionView>, AppError> {
    caller.require(Role::Admin, "change connections")?;
    let current = state.store.connection(id).await?;
    let name = match &change.name {
        Some(name) => checked_name(name)?,
        None => current.name.clone(),
    };
    let connection = state
        .store
        .update_connection(id, &name, change.usable_by.unwrap_or(current.usable_by))
        .await?;
    audit(&state, &caller, "changed", &connection, None).await?;
    Ok(Json(view(&state, connection).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/connections/{id}",
    operation_id = "connections_remove",
    tag = "connections",
    responses(
        (status = NO_CONTENT, description = "Removed"),
        (status = CONFLICT, description = "Exports use it: `connection_in_use` with `details.exports`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    caller.require(Role::Admin, "remove connections")?;
    let connection = state.store.connection(id).await?;
    state.store.delete_connection(id).await?;
    state.runs.clients().forget(id);
    audit(&state, &caller, "removed", &connection, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Add yourself as export user": scheduled runs of this connection's exports act as the
/// caller and are attributed to them.
#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/export-user",
    operation_id = "connections_become_export_user",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = ConnectionView),
    )
)]
pub(crate) async fn become_export_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<ConnectionView>, AppError> {
    caller.require(Role::Admin, "set the export user")?;
    state.store.set_export_user(id, caller.user.id).await?;
    let connection = state.store.connection(id).await?;
    audit(
        &state,
        &caller,
        "changed",
        &connection,
        Some(serde_json::json!({ "export_user": caller.user.username })),
    )
    .await?;
    Ok(Json(view(&state, connection).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ListView {
    pub(crate) list_id: Uuid,
    pub(crate) name: String,
    pub(crate) membership_count: Option<u64>,
}

/// The contact lists of the connection's Constant Contact account, to pick a List ID from.
#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/lists",
    operation_id = "connections_lists",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = [ListView]),
    )
)]
pub(crate) async fn lists(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<ListView>>, AppError> {
    let connection = state.store.connection(id).await?;
    if !caller.may_use(&connection) {
        return Err(AppError::forbidden("use this connection"));
    }
    let client = state.runs.clients().for_connection(&connection)?;
    match client.all_lists().await {
        Ok(lists) => Ok(Json(
            lists
                .into_iter()
                .map(|list| ListView {
                    list_id: list.list_id,
                    name: list.name,
                    membership_count: list.membership_count,
                })
                .collect(),
        )),
        Err(error) => Err(client_failure(&connection, &error)),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CustomFieldView {
    /// What the data matching names: `cf:<name>`.
    pub(crate) key: String,
    /// The label with blanks replaced by underscores, unique in the account.
    pub(crate) name: String,
    /// What people are shown.
    pub(crate) label: String,
}

/// The custom fields of the connection's Constant Contact account, which the data matching
/// may fill (an import may set only fields that exist).
#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/custom-fields",
    operation_id = "connections_custom_fields",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = [CustomFieldView]),
    )
)]
pub(crate) async fn custom_fields(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<CustomFieldView>>, AppError> {
    let connection = state.store.connection(id).await?;
    if !caller.may_use(&connection) {
        return Err(AppError::forbidden("use this connection"));
    }
    let client = state.runs.clients().for_connection(&connection)?;
    match client.custom_fields().await {
        Ok(fields) => Ok(Json(
            fields
                .into_iter()
                .map(|field| CustomFieldView {
                    key: format!(
                        "{}{}",
                        constant_contact::fields::CUSTOM_FIELD_PREFIX,
                        field.name
                    ),
                    name: field.name,
                    label: field.label,
                })
                .collect(),
        )),
        Err(error) => Err(client_failure(&connection, &error)),
    }
}

pub(crate) async fn audit(
    state: &AppState,
    caller: &Caller,
    action: &str,
    connection: &Connection,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    record(
        state,
        caller,
        action,
        Subject {
            kind: "connection",
            id: connection.id.to_string(),
            name: &connection.name,
        },
        detail,
    )
    .await?;
    Ok(())
}
