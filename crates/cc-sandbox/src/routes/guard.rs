//! What every `/v3` request passes before its handler: the request log, the bearer check,
//! the per-key limits, the scope check and injected faults.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::errors::{self, keys};
use crate::server::DropConnection;
use crate::state::faults::FaultAction;
use crate::state::limits::LimitVerdict;
use crate::state::oauth::CONTACT_DATA_SCOPE;
use crate::state::{LoggedRequest, SandboxState};

/// The API key of the caller, for handlers that need it.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    #[allow(dead_code)]
    pub(crate) client_id: String,
}

/// The name fault injection and the request log use for a route.
pub(crate) fn endpoint_name(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path) {
        ("GET", "/v3/contact_lists") => "get_contact_lists",
        ("POST", "/v3/contact_lists") => "create_contact_list",
        ("GET", "/v3/contact_lists/{list_id}") => "get_contact_list",
        ("POST", "/v3/activities/contacts_json_import") => "contacts_json_import",
        ("POST", "/v3/activities/remove_list_memberships") => "remove_list_memberships",
        ("POST", "/v3/activities/contact_exports") => "contact_exports",
        ("POST", "/v3/activities/contact_delete") => "contact_delete",
        ("GET", "/v3/contact_exports/{file_export_id}") => "get_contact_export",
        ("GET", "/v3/activities") => "get_activities",
        ("GET", "/v3/activities/{activity_id}") => "get_activity",
        ("GET", "/v3/contacts") => "get_contacts",
        ("GET", "/v3/contact_custom_fields") => "get_custom_fields",
        ("POST", "/v3/contact_custom_fields") => "create_custom_field",
        ("POST", "/oauth2/default/v1/token") => "token",
        ("POST", "/oauth2/default/v1/device/authorize") => "device_authorize",
        _ => "other",
    }
}

pub(crate) async fn api_guard(
    State(state): State<Arc<SandboxState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let stamp = RequestStamp::new(&state, &request);
    let endpoint = stamp.endpoint;

    let (client_id, response) = match admit(&state, &request, endpoint) {
        Err((client_id, refusal)) => (client_id, refusal),
        Ok(client_id) => {
            request.extensions_mut().insert(Caller {
                client_id: client_id.clone(),
            });
            let inspects = state.lock().faults.inspects_bodies(endpoint);
            let (request, rejection) = if inspects {
                let (parts, body) = request.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX)
                    .await
                    .unwrap_or_default();
                let rejection = state.lock().faults.take_rejection(endpoint, &bytes);
                (Request::from_parts(parts, bytes.into()), rejection)
            } else {
                (request, None)
            };
            let response = if let Some(message) = rejection {
                errors::error_object(StatusCode::BAD_REQUEST, keys::VALIDATION, &message)
            } else {
                let fault = state.lock().faults.take(endpoint);
                match fault {
                    Some(FaultAction::AnswerLate { milliseconds }) => {
                        let response = next.run(request).await;
                        tokio::time::sleep(Duration::from_millis(milliseconds)).await;
                        response
                    }
                    Some(action) => match apply_fault(action).await {
                        Some(faulty) => faulty,
                        None => next.run(request).await,
                    },
                    None => next.run(request).await,
                }
            };
            (Some(client_id), response)
        }
    };
    stamp.log(&state, client_id, response.status());
    response
}

/// When and what a request was, taken as it arrives and logged with its answer.
pub(crate) struct RequestStamp {
    received_at: chrono::DateTime<Utc>,
    elapsed_ms: f64,
    method: String,
    path: String,
    pub(crate) endpoint: &'static str,
}

impl RequestStamp {
    pub(crate) fn new(state: &SandboxState, request: &Request) -> Self {
        let path = request.uri().path().to_owned();
        let matched = request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned());
        Self {
            received_at: state.now(),
            elapsed_ms: state.elapsed_ms(),
            method: request.method().to_string(),
            endpoint: endpoint_name(request.method(), matched.as_deref().unwrap_or(&path)),
            path,
        }
    }

    pub(crate) fn log(self, state: &SandboxState, client_id: Option<String>, status: StatusCode) {
        state.log_request(LoggedRequest {
            received_at: self.received_at,
            elapsed_ms: self.elapsed_ms,
            method: self.method,
            path: self.path,
            endpoint: self.endpoint.to_owned(),
            client_id,
            status: status.as_u16(),
        });
    }
}

/// Authenticates the bearer token and counts the request against the key's limits.
fn admit(
    state: &SandboxState,
    request: &Request,
    endpoint: &str,
) -> Result<String, (Option<String>, Response)> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let config = state.config();
    let now = state.now();
    let mut inner = state.lock();
    let Some(grant) = token
        .and_then(|token| inner.oauth.access_grant(token, now))
        .cloned()
    else {
        return Err((None, errors::unauthorized()));
    };
    let client_id = grant.client_id.clone();
    let verdict = inner.limits.admit(
        &client_id,
        config.requests_per_second,
        config.daily_quota,
        tokio::time::Instant::now(),
        now,
    );
    drop(inner);
    let refusal = match verdict {
        LimitVerdict::Allowed if grant.has_scope(CONTACT_DATA_SCOPE) => return Ok(client_id),
        LimitVerdict::Allowed => errors::error_one(
            StatusCode::FORBIDDEN,
            keys::FORBIDDEN,
            &format!(
                "The access token does not grant the {CONTACT_DATA_SCOPE} scope needed by {endpoint}."
            ),
        ),
        LimitVerdict::Throttled => errors::error_object(
            StatusCode::TOO_MANY_REQUESTS,
            keys::THROTTLED,
            "Too Many Requests",
        ),
        LimitVerdict::QuotaExceeded => errors::error_object(
            StatusCode::TOO_MANY_REQUESTS,
            keys::QUOTA_EXCEEDED,
            "Limit Exceeded",
        ),
    };
    Err((Some(client_id), refusal))
}

/// Applies the next fault for `endpoint`: an answer instead of the handler's, a dropped
/// connection, or a delay before the handler runs (`None`).
pub(crate) async fn with_fault(state: &SandboxState, endpoint: &str) -> Option<Response> {
    let action = state.lock().faults.take(endpoint)?;
    apply_fault(action).await
}

async fn apply_fault(action: FaultAction) -> Option<Response> {
    match action {
        FaultAction::Respond {
            status,
            body,
            retry_after_seconds,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, axum::Json(body)).into_response();
            if let Some(seconds) = retry_after_seconds {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Some(response)
        }
        FaultAction::Delay { milliseconds } => {
            tokio::time::sleep(Duration::from_millis(milliseconds)).await;
            None
        }
        // Only the API guard answers late or looks at bodies; elsewhere the request is handled
        // as usual.
        FaultAction::AnswerLate { .. } | FaultAction::RejectBodiesContaining { .. } => None,
        FaultAction::DropConnection => {
            let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            response.extensions_mut().insert(DropConnection);
            Some(response)
        }
    }
}
