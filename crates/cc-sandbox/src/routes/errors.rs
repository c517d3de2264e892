//! Error answers in Constant Contact's shapes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The error keys the sandbox answers with. Constant Contact documents few of its keys; these
/// follow the ones it does (`contacts.api.validation.error`, `unauthorized`, `throttled`,
/// `quota_exceeded`).
pub(crate) mod keys {
    pub(crate) const VALIDATION: &str = "contacts.api.validation.error";
    pub(crate) const NOT_FOUND: &str = "contacts.api.not_found";
    pub(crate) const CONFLICT: &str = "contacts.api.conflict";
    pub(crate) const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub(crate) const UNSUPPORTED_MEDIA_TYPE: &str = "contacts.api.unsupported_media_type";
    pub(crate) const FORBIDDEN: &str = "forbidden";
    pub(crate) const UNAUTHORIZED: &str = "unauthorized";
    pub(crate) const THROTTLED: &str = "throttled";
    pub(crate) const QUOTA_EXCEEDED: &str = "quota_exceeded";
    pub(crate) const TOO_MANY_ACTIVITIES: &str = "too_many_queued_activities";
}

/// The usual shape: an array of `{error_key, error_message}`.
pub(crate) fn error_array(status: StatusCode, key: &str, messages: &[String]) -> Response {
    let body: Vec<_> = messages
        .iter()
        .map(|message| json!({ "error_key": key, "error_message": message }))
        .collect();
    (status, Json(body)).into_response()
}

pub(crate) fn error_one(status: StatusCode, key: &str, message: &str) -> Response {
    error_array(status, key, &[message.to_owned()])
}

/// The single-object shape of authorisation failures and rate limits.
pub(crate) fn error_object(status: StatusCode, key: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error_key": key, "error_message": message })),
    )
        .into_response()
}

pub(crate) fn unauthorized() -> Response {
    error_object(StatusCode::UNAUTHORIZED, keys::UNAUTHORIZED, "Unauthorized")
}

pub(crate) fn not_found(message: &str) -> Response {
    error_one(StatusCode::NOT_FOUND, keys::NOT_FOUND, message)
}

pub(crate) fn validation(messages: &[String]) -> Response {
    error_array(StatusCode::BAD_REQUEST, keys::VALIDATION, messages)
}

/// An OAuth error of the token endpoint, RFC 6749 style.
pub(crate) fn oauth_error(error: &str, description: &str) -> Response {
    let status = if error == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// Any error answer that is not JSON yet — an extractor's rejection, such as a body over the
/// size limit — gets Constant Contact's error array, with its status kept.
pub(crate) async fn in_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let dropping = response
        .extensions()
        .get::<crate::server::DropConnection>()
        .is_some();
    if !(status.is_client_error() || status.is_server_error()) || is_json || dropping {
        return response;
    }
    let key = match status {
        StatusCode::NOT_FOUND => keys::NOT_FOUND,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => keys::UNSUPPORTED_MEDIA_TYPE,
        StatusCode::METHOD_NOT_ALLOWED => keys::METHOD_NOT_ALLOWED,
        _ if status.is_server_error() => "server_error",
        _ => keys::VALIDATION,
    };
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let message = if text.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("The request failed.")
            .to_owned()
    } else {
        text.trim().to_owned()
    };
    error_one(status, key, &message)
}
