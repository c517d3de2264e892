//! A pipeline's word over HTTP: `POST /api/v1/triggers/source-changed`. An API token scoped to
//! `trigger` may call this and read runs, nothing else. The use case is
//! `segsync_app::triggers`'.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use segsync_app::triggers::{SourceChanged, TriggerAnswer};

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// Says a source changed (`source`: `profiles` or a related table's name; none: every source):
/// the exports whose schedule follows the data and that read it start now, within `[schedule]
/// max_runs_per_day` and `min_minutes_between`. Answers the runs started — follow each with
/// `GET /api/v1/runs/{id}` until it ends — and the exports held back, with why.
#[utoipa::path(
    post,
    path = "/api/v1/triggers/source-changed",
    operation_id = "triggers_source_changed",
    tag = "runs",
    request_body = SourceChanged,
    responses(
        (status = ACCEPTED, description = "The runs started and the exports held back", body = TriggerAnswer),
    )
)]
pub(crate) async fn source_changed(
    State(state): State<AppState>,
    caller: Caller,
    Json(changed): Json<SourceChanged>,
) -> Result<(StatusCode, Json<TriggerAnswer>), AppError> {
    let triggers = state.app.triggers(&caller, "start runs")?;
    Ok((
        StatusCode::ACCEPTED,
        Json(triggers.source_changed(&changed).await?),
    ))
}

/// A dbt Cloud webhook (`job.run.completed`): dbt Cloud signs each request with the webhook's
/// secret (the `Authorization` header holds the hex HMAC-SHA256 of the body), which `[triggers]
/// dbt_cloud_secret` holds here. A successful run of the job says `[triggers] dbt_cloud_source`
/// (the profiles unless told) changed; other events and failed runs start nothing.
#[utoipa::path(
    post,
    path = "/api/v1/triggers/dbt-cloud",
    operation_id = "triggers_dbt_cloud",
    tag = "runs",
    request_body(content = String, content_type = "application/json", description = "dbt Cloud's webhook body, as dbt Cloud signed it"),
    security(()),
    responses(
        (status = ACCEPTED, description = "The runs started and the exports held back (none for an event that says nothing changed)", body = TriggerAnswer),
    )
)]
pub(crate) async fn dbt_cloud(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<TriggerAnswer>), AppError> {
    use crate::error::Code;
    use secrecy::ExposeSecret;

    let triggers = &state.config.triggers;
    let Some(secret) = &triggers.dbt_cloud_secret else {
        return Err(AppError::new(
            Code::NotFound,
            "no dbt Cloud webhook is configured ([triggers] dbt_cloud_secret)",
        ));
    };
    let signed = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if !signed.is_some_and(|signed| {
        segsync_app::triggers::signed_by(secret.expose_secret(), &body, signed)
    }) {
        return Err(AppError::new(
            Code::Unauthenticated,
            "the request is not signed with the dbt Cloud webhook's secret",
        ));
    }
    let event: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|error| AppError::new(Code::InvalidBody, format!("not JSON: {error}")))?;
    let completed =
        event["eventType"] == "job.run.completed" && event["data"]["runStatus"] == "Success";
    if !completed {
        return Ok((
            StatusCode::ACCEPTED,
            Json(TriggerAnswer {
                started: Vec::new(),
                held: Vec::new(),
            }),
        ));
    }
    let changed = SourceChanged {
        source: Some(
            triggers
                .dbt_cloud_source
                .clone()
                .unwrap_or_else(|| "profiles".to_owned()),
        ),
        version: event["data"]["runId"]
            .as_str()
            .map(|run| format!("dbt Cloud run {run}")),
    };
    let answer = segsync_app::triggers::answer_source_changed(
        &state.app,
        None,
        &changed,
        Some("dbt Cloud webhook"),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}
