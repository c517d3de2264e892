//! `POST /v3/activities/contacts_json_import`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::errors;
use super::{refuse_when_queue_full, require_json};
use crate::activity_runner::{self, Job};
use crate::state::SandboxState;
use crate::state::activities::ActivityKind;
use crate::state::imports::parse_envelope;

pub(crate) async fn contacts_json_import(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = require_json(&headers) {
        return refusal;
    }
    let config = state.config();
    let envelope = match parse_envelope(&body, config.max_import_bytes) {
        Ok(envelope) => envelope,
        Err(problems) => return errors::validation(&problems),
    };
    let mut inner = state.lock();
    if let Some(refusal) =
        refuse_when_queue_full(inner.activities.queued(), config.max_queued_activities)
    {
        return refusal;
    }
    let request = match envelope.resolve(body, &inner.lists, &inner.custom_fields) {
        Ok(request) => request,
        Err(problems) => return errors::validation(&problems),
    };
    let activity = inner
        .activities
        .create(ActivityKind::ContactsJsonImport, 0, state.now());
    let (activity_id, json) = (activity.activity_id, activity.to_json());
    drop(inner);
    activity_runner::start(state.clone(), activity_id, Job::Import(request));
    (StatusCode::CREATED, Json(json)).into_response()
}
