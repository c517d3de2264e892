//! The admin API under `/__sandbox`: inject faults, change time-dependent state, and read back
//! what the sandbox holds and what it received. It is not part of Constant Contact's API.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::state::SandboxState;
use crate::state::activities::ActivityState;
use crate::state::faults::Fault;

pub(crate) async fn add_fault(
    State(state): State<Arc<SandboxState>>,
    Json(fault): Json<Fault>,
) -> Response {
    state.add_fault(fault);
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn clear_faults(State(state): State<Arc<SandboxState>>) -> Response {
    state.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub(crate) struct FailActivities {
    count: u32,
    state: ActivityState,
}

pub(crate) async fn fail_activities(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<FailActivities>,
) -> Response {
    if !matches!(
        body.state,
        ActivityState::Failed | ActivityState::TimedOut | ActivityState::Cancelled
    ) {
        return (
            StatusCode::BAD_REQUEST,
            "state must be failed, timed_out or cancelled",
        )
            .into_response();
    }
    state.fail_next_activities(body.count, body.state);
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn expire_tokens(State(state): State<Arc<SandboxState>>) -> Response {
    state.expire_access_tokens();
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn revoke_tokens(State(state): State<Arc<SandboxState>>) -> Response {
    state.revoke_tokens();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub(crate) struct Emails {
    emails: Vec<String>,
    /// Why they unsubscribed, as a person may say when they do.
    #[serde(default)]
    reason: Option<String>,
}

pub(crate) async fn unsubscribe(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<Emails>,
) -> Response {
    let changed = state.unsubscribe_because(&body.emails, body.reason.as_deref());
    Json(json!({ "unsubscribed": changed })).into_response()
}

pub(crate) async fn delete_contacts(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<Emails>,
) -> Response {
    let deleted = state.delete_contacts(&body.emails);
    Json(json!({ "deleted": deleted })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct UserCode {
    user_code: String,
}

pub(crate) async fn approve_device(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<UserCode>,
) -> Response {
    if state.approve_device(&body.user_code) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            "no pending device authorisation has that user code",
        )
            .into_response()
    }
}

pub(crate) async fn lists(State(state): State<Arc<SandboxState>>) -> Response {
    Json(json!({ "lists": state.lists(), "contacts": state.contact_count() })).into_response()
}

pub(crate) async fn list_members(
    State(state): State<Arc<SandboxState>>,
    Path(list_id): Path<Uuid>,
) -> Response {
    Json(json!({ "list_id": list_id, "members": state.list_members(list_id) })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct EmailQuery {
    email: String,
}

pub(crate) async fn contact(
    State(state): State<Arc<SandboxState>>,
    Query(query): Query<EmailQuery>,
) -> Response {
    match state.contact(&query.email) {
        Some(contact) => Json(contact).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(crate) async fn requests(State(state): State<Arc<SandboxState>>) -> Response {
    Json(json!({ "requests": state.requests() })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct CustomFieldLabel {
    label: String,
}

/// Creates a custom field as the account's owner would by hand.
pub(crate) async fn create_custom_field(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<CustomFieldLabel>,
) -> Response {
    match state.create_custom_field(&body.label) {
        Ok(name) => (StatusCode::CREATED, Json(json!({ "name": name }))).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct ClockAdvance {
    seconds: u64,
}

/// Moves the sandbox's clock forward.
pub(crate) async fn advance_clock(
    State(state): State<Arc<SandboxState>>,
    Json(body): Json<ClockAdvance>,
) -> Response {
    state.advance_clock(std::time::Duration::from_secs(body.seconds));
    Json(json!({ "now": crate::state::timestamp(state.now()) })).into_response()
}
