//! Exports: contributors and admins configure them on connections they may use; everyone reads
//! them. Saving checks everything that can be checked — the connection, the segments, the data
//! matching against the profiles, the List ID against Constant Contact — and runs nothing.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use segsync_domain::schedule::RefreshSchedule;
use segsync_domain::{ContactField, FieldMapping};
use segsync_export::SyncMode;
use segsync_store::{Export, ExportDraft, Role, UsableBy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::connections::may_use;
use super::paging::{PageQuery, Paged};
use crate::audit::{Subject, record};
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::segments::profiles;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ExportForm {
    pub(crate) name: String,
    pub(crate) connection_id: Uuid,
    pub(crate) list_id: Uuid,
    /// Constant Contact field → profile attribute; `email` is required.
    pub(crate) mapping: BTreeMap<String, String>,
    pub(crate) segment_ids: Vec<Uuid>,
    #[serde(default)]
    pub(crate) schedule_override: Option<RefreshSchedule>,
    /// What runs do with the list; `add_only` when left out.
    #[serde(default)]
    pub(crate) sync_mode: SyncMode,
}

/// What the caller may do with an export.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Permissions {
    pub(crate) edit: bool,
    pub(crate) run: bool,
    pub(crate) duplicate: bool,
    pub(crate) detach: bool,
    pub(crate) remove: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ExportView {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) connection_id: Option<Uuid>,
    pub(crate) list_id: Uuid,
    /// Constant Contact field → profile attribute.
    pub(crate) mapping: BTreeMap<String, String>,
    pub(crate) segment_ids: Vec<Uuid>,
    pub(crate) schedule_override: Option<RefreshSchedule>,
    pub(crate) sync_mode: SyncMode,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) you_may: Permissions,
}

/// Whether `caller` may change, run, duplicate, detach or remove `export`: admins always,
/// contributors when its connection is shared with them (or it has none), viewers never.
pub(crate) async fn may_manage(
    state: &AppState,
    caller: &Caller,
    export: &Export,
) -> Result<bool, ApiError> {
    Ok(match caller.user.role {
        Role::Admin => true,
        Role::Viewer => false,
        Role::Contributor => match export.connection_id {
            None => true,
            Some(id) => {
                state.store.connection(id).await?.usable_by == UsableBy::AdminsAndContributors
            }
        },
    })
}

async fn view(state: &AppState, caller: &Caller, export: Export) -> Result<ExportView, ApiError> {
    let manage = may_manage(state, caller, &export).await?;
    Ok(ExportView {
        id: export.id,
        name: export.name,
        connection_id: export.connection_id,
        list_id: export.list_id,
        mapping: export.mapping,
        segment_ids: export.segment_ids,
        schedule_override: export.schedule_override,
        sync_mode: export.sync_mode,
        created_at: export.created_at,
        updated_at: export.updated_at,
        you_may: Permissions {
            edit: manage,
            run: manage && export.connection_id.is_some(),
            duplicate: manage,
            detach: manage && export.connection_id.is_some(),
            remove: manage,
        },
    })
}

/// Everything about a form that can be checked before saving, the List ID included.
async fn checked(
    state: &AppState,
    caller: &Caller,
    form: &ExportForm,
) -> Result<ExportDraft, ApiError> {
    caller.require(Role::Contributor, "configure exports")?;
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "name",
            "an export name of 1 to 100 characters",
        ));
    }
    let connection = state
        .store
        .connection(form.connection_id)
        .await
        .map_err(|_| ApiError::invalid("connection_id", "no such connection"))?;
    if !may_use(caller, &connection) {
        return Err(ApiError::invalid(
            "connection_id",
            "only admins may use this connection; ask an administrator to share it",
        ));
    }
    if form.segment_ids.is_empty() {
        return Err(ApiError::invalid(
            "segment_ids",
            "choose at least one segment",
        ));
    }
    for id in &form.segment_ids {
        state.store.segment(*id).await.map_err(|_| {
            ApiError::invalid(
                "segment_ids",
                format!("no segment {id}; only segments can be exported"),
            )
        })?;
    }
    if !form.mapping.contains_key("email") {
        return Err(ApiError::invalid(
            "mapping.email",
            "the Email field is required",
        ));
    }
    for field in form.mapping.keys().filter(|field| *field != "email") {
        field
            .parse::<ContactField>()
            .map_err(|problem| ApiError::invalid(&format!("mapping.{field}"), problem))?;
    }
    if state.config.profiles.is_some() {
        let schema = profiles(state).await?.schema();
        for (field, attribute) in &form.mapping {
            if schema.get(attribute).is_none() {
                let hint = schema
                    .nearest(attribute)
                    .map(|near| format!("; did you mean {near:?}?"))
                    .unwrap_or_default();
                return Err(ApiError::invalid(
                    &format!("mapping.{field}"),
                    format!("the profiles have no attribute {attribute:?}{hint}"),
                ));
            }
        }
    }
    if let Some(schedule) = &form.schedule_override {
        schedule
            .check()
            .map_err(|problem| ApiError::invalid("schedule_override", problem))?;
    }
    let client = state.runs.clients().for_connection(&connection)?;
    match client.get_list(form.list_id).await {
        Ok(_) => {}
        Err(constant_contact::Error::Rejected { status: 404, .. }) => {
            return Err(ApiError::new(
                Code::ListNotFound,
                format!(
                    "list_id: Constant Contact has no list {} in this account",
                    form.list_id
                ),
            ));
        }
        Err(error) => return Err(crate::error::client_failure(&connection, &error)),
    }
    let mapping = FieldMapping::from_names(&form.mapping)
        .map_err(|problem| ApiError::new(Code::Invalid, problem.to_string()))?;
    let missing = segsync_export::missing_custom_fields(&client, &mapping)
        .await
        .map_err(|error| crate::error::client_failure(&connection, &error))?;
    if let Some(first) = missing.first() {
        let keys: Vec<String> = missing.iter().map(|name| format!("cf:{name}")).collect();
        let field = format!("mapping.cf:{first}");
        return Err(ApiError::new(Code::CustomFieldsMissing,
            format!(
                "{field}: the Constant Contact account has no custom field {}; create {} in Constant Contact first or choose another field",
                keys.join(", "),
                if keys.len() == 1 { "it" } else { "them" }
            ),
        )
        .with_details(serde_json::json!({ "field": field, "missing": keys })));
    }
    Ok(ExportDraft {
        name: name.to_owned(),
        connection_id: connection.id,
        list_id: form.list_id,
        mapping: form.mapping.clone(),
        schedule_override: form.schedule_override.clone(),
        sync_mode: form.sync_mode,
        segment_ids: form.segment_ids.clone(),
    })
}

fn subject(export: &Export) -> Subject<'_> {
    Subject {
        kind: "export",
        id: export.id.to_string(),
        name: &export.name,
    }
}

async fn manageable(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    what: &str,
) -> Result<Export, ApiError> {
    let export = state.store.export(id).await?;
    if !may_manage(state, caller, &export).await? {
        return Err(ApiError::forbidden(what));
    }
    Ok(export)
}

#[utoipa::path(
    get,
    path = "/api/v1/exports",
    operation_id = "exports_list",
    tag = "exports",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [ExportView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Paged<ExportView>, ApiError> {
    let mut page = page.of(state.store.exports().await?);
    let mut views = Vec::new();
    for export in std::mem::take(&mut page.items) {
        views.push(view(&state, &caller, export).await?);
    }
    Ok(page.with_items(views))
}

#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}",
    operation_id = "exports_get",
    tag = "exports",
    responses(
        (status = OK, description = "Done", body = ExportView),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<ExportView>, ApiError> {
    let export = state.store.export(id).await?;
    Ok(Json(view(&state, &caller, export).await?))
}

/// Saves a new export. It does not run.
#[utoipa::path(
    post,
    path = "/api/v1/exports",
    operation_id = "exports_create",
    tag = "exports",
    responses(
        (status = CREATED, description = "Saved; nothing runs", body = ExportView),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(form): Json<ExportForm>,
) -> Result<(StatusCode, Json<ExportView>), ApiError> {
    let draft = checked(&state, &caller, &form).await?;
    let export = state.store.create_export(&draft, caller.user.id).await?;
    record(&state, &caller, "created", subject(&export), None).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &caller, export).await?),
    ))
}

#[utoipa::path(
    put,
    path = "/api/v1/exports/{id}",
    operation_id = "exports_update",
    tag = "exports",
    responses(
        (status = OK, description = "Done", body = ExportView),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(form): Json<ExportForm>,
) -> Result<Json<ExportView>, ApiError> {
    manageable(&state, &caller, id, "change this export").await?;
    let draft = checked(&state, &caller, &form).await?;
    let export = state
        .store
        .update_export(id, &draft, caller.user.id)
        .await?;
    record(&state, &caller, "changed", subject(&export), None).await?;
    Ok(Json(view(&state, &caller, export).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/duplicate",
    operation_id = "exports_duplicate",
    tag = "exports",
    responses(
        (status = CREATED, description = "Created", body = ExportView),
    )
)]
pub(crate) async fn duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<ExportView>), ApiError> {
    let original = manageable(&state, &caller, id, "duplicate this export").await?;
    let Some(connection_id) = original.connection_id else {
        return Err(ApiError::invalid(
            "connection_id",
            "choose a connection for the export before duplicating it",
        ));
    };
    let names: Vec<String> = state
        .store
        .exports()
        .await?
        .into_iter()
        .map(|export| export.name)
        .collect();
    let name = (1..)
        .map(|n| {
            if n == 1 {
                format!("{} (copy)", original.name)
            } else {
                format!("{} (copy {n})", original.name)
            }
        })
        .find(|name| !names.contains(name))
        .expect("some name is free");
    let draft = ExportDraft {
        name,
        connection_id,
        list_id: original.list_id,
        mapping: original.mapping.clone(),
        schedule_override: original.schedule_override.clone(),
        sync_mode: original.sync_mode,
        segment_ids: original.segment_ids.clone(),
    };
    let copy = state.store.create_export(&draft, caller.user.id).await?;
    record(
        &state,
        &caller,
        "created",
        subject(&copy),
        Some(serde_json::json!({ "duplicate_of": original.id })),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &caller, copy).await?),
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/detach",
    operation_id = "exports_detach",
    tag = "exports",
    responses(
        (status = OK, description = "Done", body = ExportView),
    )
)]
pub(crate) async fn detach(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<ExportView>, ApiError> {
    manageable(&state, &caller, id, "detach this export").await?;
    let export = state.store.detach_export(id, caller.user.id).await?;
    record(&state, &caller, "detached", subject(&export), None).await?;
    Ok(Json(view(&state, &caller, export).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/exports/{id}",
    operation_id = "exports_remove",
    tag = "exports",
    responses(
        (status = NO_CONTENT, description = "Removed"),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let export = manageable(&state, &caller, id, "remove this export").await?;
    state.store.delete_export(id).await?;
    record(&state, &caller, "removed", subject(&export), None).await?;
    Ok(StatusCode::NO_CONTENT)
}
