//! `GET /v3/activities` and `GET /v3/activities/{activity_id}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{errors, paging};
use crate::state::SandboxState;
use crate::state::activities::ActivityState;

#[derive(Debug, Deserialize)]
pub(crate) struct ActivitiesQuery {
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

pub(crate) async fn get_activities(
    State(state): State<Arc<SandboxState>>,
    Query(query): Query<ActivitiesQuery>,
) -> Response {
    let limit = match paging::limit(query.limit.as_deref(), 50, 500) {
        Ok(limit) => limit,
        Err(message) => return errors::validation(&[message]),
    };
    let wanted = match query.state.as_deref() {
        None => None,
        Some(text) => match ActivityState::parse(text) {
            Some(wanted) => Some(wanted),
            None => {
                return errors::validation(&[format!(
                    "state does not have a valid value: {text:?}."
                )]);
            }
        },
    };
    let inner = state.lock();
    let activities: Vec<Value> = inner
        .activities
        .newest_first()
        .filter(|activity| wanted.is_none_or(|wanted| activity.state == wanted))
        .take(limit)
        .map(|activity| activity.to_json())
        .collect();
    Json(json!({ "activities": activities, "_links": {} })).into_response()
}

pub(crate) async fn get_activity(
    State(state): State<Arc<SandboxState>>,
    Path(activity_id): Path<String>,
) -> Response {
    let inner = state.lock();
    match Uuid::parse_str(&activity_id)
        .ok()
        .and_then(|id| inner.activities.get(id))
    {
        Some(activity) => Json(activity.to_json()).into_response(),
        None => errors::not_found("Resource not found for the activity_id provided."),
    }
}
