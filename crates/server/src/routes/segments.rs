//! Segments: everyone signed in reads them and previews their members; contributors and admins
//! create, change, (de)activate, remove, import and export them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use datafusion::arrow::array::Array;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use segsync_domain::SegmentDefinition;
use segsync_domain::segment::{SegmentFormat, parse_segments};
use segsync_engine::datafusion;
use segsync_store::{Role, Segment, SegmentDraft};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::paging::{PageQuery, Paged};
use crate::audit::{Subject, record};
use crate::auth::Caller;
use crate::error::{AppError, Code};
use crate::segments::{SegmentBody, catalogue, check, check_all, clock_now, invalid, profiles};
use crate::state::AppState;

/// Members shown by a preview.
const PREVIEW_ROWS: usize = 100;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SegmentView {
    pub(crate) id: Uuid,
    #[serde(flatten)]
    pub(crate) body: SegmentBody,
    pub(crate) active: bool,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

fn view(segment: &Segment) -> SegmentView {
    SegmentView {
        id: segment.id,
        body: SegmentBody::of(segment),
        active: segment.active,
        created_at: segment.created_at,
        updated_at: segment.updated_at,
    }
}

fn draft(definition: SegmentDefinition) -> SegmentDraft {
    SegmentDraft {
        name: definition.name,
        description: definition.description,
        rule: definition.rule,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/segments",
    operation_id = "segments_list",
    tag = "segments",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [SegmentView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Paged<SegmentView>, AppError> {
    Ok(page
        .of(state.store.segments().await?)
        .map(|segment| view(&segment)))
}

#[utoipa::path(
    get,
    path = "/api/v1/segments/{id}",
    operation_id = "segments_get",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<SegmentView>, AppError> {
    Ok(Json(view(&state.store.segment(id).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/segments",
    operation_id = "segments_create",
    tag = "segments",
    responses(
        (status = CREATED, description = "Created", body = SegmentView),
        (status = UNPROCESSABLE_ENTITY, description = "`invalid_segment`, each problem at its rule in `details.errors`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<SegmentBody>,
) -> Result<(StatusCode, Json<SegmentView>), AppError> {
    caller.require(Role::Contributor, "create segments")?;
    let definition = check(&state, &body).await?;
    let segment = state
        .store
        .create_segment(&draft(definition), caller.user.id)
        .await?;
    audit(&state, &caller, "created", &segment).await?;
    Ok((StatusCode::CREATED, Json(view(&segment))))
}

#[utoipa::path(
    put,
    path = "/api/v1/segments/{id}",
    operation_id = "segments_update",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Json(body): Json<SegmentBody>,
) -> Result<Json<SegmentView>, AppError> {
    caller.require(Role::Contributor, "change segments")?;
    let current = state.store.segment(id).await?;
    if current.name != body.name.trim() {
        // Set operations name the segments they use, so a rename would break them; exports
        // hold segments by id and do not mind.
        let users: Vec<String> = catalogue(&state)
            .await?
            .into_iter()
            .filter(|other| other.name != current.name && other.rule.refers_to(&current.name))
            .map(|other| other.name)
            .collect();
        if !users.is_empty() {
            return Err(AppError::invalid(
                "name",
                format!(
                    "the segments {} use {:?} by name; change them first",
                    users.join(", "),
                    current.name
                ),
            ));
        }
    }
    let definition = check(&state, &body).await?;
    let segment = state
        .store
        .update_segment(id, &draft(definition), caller.user.id)
        .await?;
    audit(&state, &caller, "changed", &segment).await?;
    Ok(Json(view(&segment)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/segments/{id}",
    operation_id = "segments_remove",
    tag = "segments",
    responses(
        (status = NO_CONTENT, description = "Removed"),
        (status = CONFLICT, description = "Exports send it (`segment_in_use` with `details.exports`) or other segments refer to it (`segment_in_use` with `details.segments`)", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    caller.require(Role::Contributor, "remove segments")?;
    let segment = state.store.segment(id).await?;
    let referrers = referrers_of(&state, &segment.name).await?;
    if !referrers.is_empty() {
        return Err(AppError::new(
            Code::SegmentInUse,
            format!(
                "the segment {:?} is referred to by the segments {}; change them first",
                segment.name,
                referrers.join(", ")
            ),
        )
        .with_details(serde_json::json!({ "segments": referrers })));
    }
    state.store.delete_segment(id).await?;
    audit(&state, &caller, "removed", &segment).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/segments/{id}/activate",
    operation_id = "segments_activate",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<SegmentView>, AppError> {
    set_active(state, caller, id, true).await
}

#[utoipa::path(
    post,
    path = "/api/v1/segments/{id}/deactivate",
    operation_id = "segments_deactivate",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = SegmentView),
    )
)]
pub(crate) async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<SegmentView>, AppError> {
    set_active(state, caller, id, false).await
}

async fn set_active(
    state: AppState,
    caller: Caller,
    id: Uuid,
    active: bool,
) -> Result<Json<SegmentView>, AppError> {
    caller.require(Role::Contributor, "activate or deactivate segments")?;
    let segment = state
        .store
        .set_segment_active(id, active, caller.user.id)
        .await?;
    audit(
        &state,
        &caller,
        if active { "activated" } else { "deactivated" },
        &segment,
    )
    .await?;
    Ok(Json(view(&segment)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Validation {
    pub(crate) valid: bool,
    /// The profiles it holds now, when asked for with `count=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) members: Option<u64>,
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ValidateQuery {
    /// Also count the members the definition holds now (one pass over the profiles).
    #[serde(default)]
    pub(crate) count: bool,
}

/// Checks a definition without saving it; problems come back as an `invalid_segment` error
/// with each one's rule path in `details.errors`. With `count=true`, a valid definition's
/// members are counted too, as a builder shows them while a rule is written.
#[utoipa::path(
    post,
    path = "/api/v1/segments/validate",
    operation_id = "segments_validate",
    tag = "segments",
    params(ValidateQuery),
    responses(
        (status = OK, description = "Done", body = Validation),
        (status = UNPROCESSABLE_ENTITY, description = "`invalid_segment`, each problem at its rule in `details.errors`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn validate(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<ValidateQuery>,
    Json(body): Json<SegmentBody>,
) -> Result<Json<Validation>, AppError> {
    let members = if query.count {
        Some(crate::segments::count_written(&state, &body).await?)
    } else {
        check(&state, &body).await?;
        None
    };
    Ok(Json(Validation {
        valid: true,
        members,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Preview {
    pub(crate) members: u64,
    /// The first members, every attribute as text (null when missing).
    pub(crate) sample: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[utoipa::path(
    get,
    path = "/api/v1/segments/{id}/preview",
    operation_id = "segments_preview",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = Preview),
    )
)]
pub(crate) async fn preview(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<Preview>, AppError> {
    let segment = state.store.segment(id).await?;
    let definition = segment.definition();
    let catalogue = catalogue(&state).await?;
    let profiles = profiles(&state).await?;
    let unreadable = |error: segsync_engine::EngineError| {
        AppError::new(Code::ProfilesUnreadable, error.to_string())
    };
    let membership = profiles
        .segment_expr(&definition, &catalogue, &clock_now())
        .map_err(unreadable)?;
    let members = profiles
        .count(membership.clone())
        .await
        .map_err(unreadable)?;
    let batches = profiles
        .preview(membership, PREVIEW_ROWS)
        .await
        .map_err(unreadable)?;
    let mut sample = Vec::new();
    let options = FormatOptions::default();
    for batch in &batches {
        let schema = batch.schema();
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|error| AppError::new(Code::Internal, error.to_string()))?;
        for row in 0..batch.num_rows() {
            let mut member = serde_json::Map::new();
            for (i, field) in schema.fields().iter().enumerate() {
                let value = if batch.column(i).is_null(row) {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(formatters[i].value(row).to_string())
                };
                member.insert(field.name().clone(), value);
            }
            sample.push(member);
        }
    }
    Ok(Json(Preview { members, sample }))
}

/// Every segment as one YAML file, the format `segsync segments check` reads.
#[utoipa::path(
    get,
    path = "/api/v1/segments/yaml",
    operation_id = "segments_export_yaml",
    tag = "segments",
    responses(
        (status = OK, description = "Every segment as a segment file", content_type = "application/yaml", body = SegmentFile),
    )
)]
pub(crate) async fn export_yaml(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<impl IntoResponse, AppError> {
    let segments: Vec<SegmentBody> = state
        .store
        .segments()
        .await?
        .iter()
        .map(SegmentBody::of)
        .collect();
    let yaml = serde_saphyr::to_string(&SegmentFile { segments })
        .map_err(|error| AppError::new(Code::Internal, error.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/yaml")], yaml))
}

/// A segment file: the segments under `segments:`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SegmentFile {
    segments: Vec<SegmentBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Imported {
    pub(crate) created: Vec<String>,
    pub(crate) updated: Vec<String>,
}

/// Reads a YAML file of segments. All or nothing: with any problem, nothing is saved and every
/// problem is reported. Segments whose names exist are updated.
#[utoipa::path(
    post,
    path = "/api/v1/segments/yaml",
    operation_id = "segments_import_yaml",
    tag = "segments",
    responses(
        (status = OK, description = "Done", body = Imported),
    )
)]
pub(crate) async fn import_yaml(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<Imported>, AppError> {
    caller.require(Role::Contributor, "import segments")?;
    let parsed: serde_json::Value = serde_saphyr::from_str(&body)
        .map_err(|error| AppError::new(Code::InvalidSegment, format!("the YAML: {error}")))?;
    parse_segments(&body, SegmentFormat::Yaml, "import").map_err(|errors| invalid(&errors))?;
    let bodies: Vec<SegmentBody> = serde_json::from_value(
        parsed
            .get("segments")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
    )
    .map_err(|error| AppError::new(Code::InvalidSegment, format!("segments: {error}")))?;
    let drafts: Vec<SegmentDraft> = check_all(&state, &bodies)
        .await?
        .into_iter()
        .map(draft)
        .collect();
    // One transaction: every segment of the file is saved, or none.
    let saved = state.store.import_segments(&drafts, caller.user.id).await?;
    let mut imported = Imported {
        created: Vec::new(),
        updated: Vec::new(),
    };
    for (segment, created) in &saved {
        if *created {
            imported.created.push(segment.name.clone());
        } else {
            imported.updated.push(segment.name.clone());
        }
        audit(&state, &caller, "imported", segment).await?;
    }
    Ok(Json(imported))
}

/// The names of the segments whose rules refer to `name`.
async fn referrers_of(state: &AppState, name: &str) -> Result<Vec<String>, AppError> {
    Ok(catalogue(state)
        .await?
        .into_iter()
        .filter(|segment| segment.name != name && segment.rule.refers_to(name))
        .map(|segment| segment.name)
        .collect())
}

async fn audit(
    state: &AppState,
    caller: &Caller,
    action: &str,
    segment: &Segment,
) -> Result<(), AppError> {
    record(
        state,
        caller,
        action,
        Subject {
            kind: "segment",
            id: segment.id.to_string(),
            name: &segment.name,
        },
        None,
    )
    .await?;
    Ok(())
}
