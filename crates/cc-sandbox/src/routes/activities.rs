//! `GET /v3/activities` (paged, newest first, the last ten days) and
//! `GET /v3/activities/{activity_id}` (404 once it is older than ten days).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::query::ApiQuery;
use super::{errors, paging};
use crate::state::SandboxState;
use crate::state::activities::ActivityState;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct ActivitiesQuery {
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
}

pub(crate) async fn get_activities(
    State(state): State<Arc<SandboxState>>,
    ApiQuery(query): ApiQuery<ActivitiesQuery>,
) -> Response {
    let (before, query) = match paging::resume(query.cursor.clone().as_deref(), query) {
        Ok(resumed) => resumed,
        Err(refusal) => return refusal,
    };
    let limit = match paging::limit(query.limit.as_deref(), DEFAULT_PAGE, MAX_PAGE) {
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
    let now = state.now();
    let mut inner = state.lock();
    inner.activities.forget_expired(now);
    let mut matching = inner
        .activities
        .newest_first(before)
        .filter(|(_, activity)| wanted.is_none_or(|wanted| activity.state == wanted));
    let page: Vec<(usize, Value)> = matching
        .by_ref()
        .take(limit)
        .map(|(place, activity)| (place, activity.to_json()))
        .collect();
    let more = matching.next().is_some();
    let links = match page.last() {
        Some((last_place, _)) if more => {
            let cursor = paging::encode(*last_place, &query);
            json!({ "next": { "href": format!("/v3/activities?cursor={cursor}") } })
        }
        _ => json!({}),
    };
    let activities: Vec<Value> = page.into_iter().map(|(_, json)| json).collect();
    Json(json!({ "activities": activities, "_links": links })).into_response()
}

pub(crate) async fn get_activity(
    State(state): State<Arc<SandboxState>>,
    Path(activity_id): Path<String>,
) -> Response {
    let now = state.now();
    let mut inner = state.lock();
    inner.activities.forget_expired(now);
    match Uuid::parse_str(&activity_id)
        .ok()
        .and_then(|id| inner.activities.get(id))
    {
        Some(activity) => Json(activity.to_json()).into_response(),
        None => errors::not_found("Resource not found for the activity_id provided."),
    }
}
