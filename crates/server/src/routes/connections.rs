//! Connections over HTTP. Admins create, change, authenticate and remove them; contributors see
//! the name and type of those shared with them, and never any secret. The use cases are
//! `segsync_app::connections`'; these routes read the request and answer with what it returns.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use segsync_app::connections::{
    CONSENT_TEXT, ConnectionChange, ConnectionForm, ConnectionView, ConsentText, CustomFieldView,
    ListView, OptOutView, Visible,
};
use uuid::Uuid;

use super::paging::{PageQuery, Paged};
use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

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
    let connections = state.app.connections(&caller);
    let mut page = page.of(connections.visible().await?);
    let mut visible = Vec::new();
    for connection in std::mem::take(&mut page.items) {
        visible.push(connections.view(connection).await?);
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
    Ok(Json(state.app.connections(&caller).get(id).await?))
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
    let admin = state.app.connection_admin(&caller, "add connections")?;
    Ok((StatusCode::CREATED, Json(admin.create(&form).await?)))
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
    let admin = state.app.connection_admin(&caller, "change connections")?;
    Ok(Json(admin.update(id, &change).await?))
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
    let admin = state.app.connection_admin(&caller, "remove connections")?;
    admin.remove(id).await?;
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
    let admin = state.app.connection_admin(&caller, "set the export user")?;
    Ok(Json(admin.become_export_user(id).await?))
}

/// How the opt-outs are answered.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct OptOutsQuery {
    /// `json` (the default) or `csv`.
    #[serde(default)]
    format: Option<String>,
}

/// The contacts Constant Contact says opted out, as runs learned them before sending (no export
/// of the connection sends them again), latest learned first; admins only. `format=csv` answers
/// a CSV file with the same columns.
#[utoipa::path(
    get,
    path = "/api/v1/connections/{id}/opt-outs",
    operation_id = "connections_opt_outs",
    tag = "connections",
    params(OptOutsQuery),
    responses(
        (status = OK, description = "The opt-outs", body = [OptOutView]),
        (status = OK, description = "The opt-outs as CSV (format=csv)", content_type = "text/csv", body = String),
    )
)]
pub(crate) async fn opt_outs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(query): Query<OptOutsQuery>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let admin = state
        .app
        .connection_admin(&caller, "read a connection's opt-outs")?;
    let opt_outs = admin.opt_outs(id).await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(opt_outs).into_response()),
        Some("csv") => Ok((
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/csv; charset=utf-8".to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"connection-{id}-opt-outs.csv\""),
                ),
            ],
            opt_outs_csv(&opt_outs),
        )
            .into_response()),
        Some(other) => Err(AppError::new(
            crate::error::Code::Invalid,
            format!("format: json or csv, not {other:?}"),
        )),
    }
}

fn opt_outs_csv(opt_outs: &[OptOutView]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record([
        "email",
        "contact_id",
        "opted_out_at",
        "opt_out_source",
        "reason",
        "connection_id",
        "learned_at",
    ]);
    for opt_out in opt_outs {
        let _ = writer.write_record([
            opt_out.email.as_str(),
            &opt_out
                .contact_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            opt_out.opted_out_at.as_deref().unwrap_or_default(),
            opt_out.opt_out_source.as_deref().unwrap_or_default(),
            opt_out.reason.as_deref().unwrap_or_default(),
            &opt_out.connection_id.to_string(),
            &opt_out.learned_at.to_rfc3339(),
        ]);
    }
    writer.into_inner().unwrap_or_default()
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
    Ok(Json(state.app.connections(&caller).lists(id).await?))
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
    Ok(Json(
        state.app.connections(&caller).custom_fields(id).await?,
    ))
}
