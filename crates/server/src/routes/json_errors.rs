//! Every rejection of an API request is the API's JSON. Handlers answer their own errors as
//! [`AppError`]; what axum rejects before a handler runs (malformed JSON, wrong types, bad path
//! or query parameters, a body over the limit, a method or a route that does not exist) comes
//! back as plain text or nothing, and is turned here into `{code, message}` with the same
//! status.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, Code};

/// The most bytes of a request body the API reads; larger bodies answer 413 `body_too_large`.
pub(crate) const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// The longest rejection text kept as the message.
const MAX_MESSAGE: usize = 4 * 1024;

/// Rewrites an error answer of an API route that is not JSON into the API's error JSON.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let mut answer = AppError::new(code_of(status), message_of(status, text, &method, &path))
        .with_status(status)
        .into_response();
    // What the rejection said about retrying or the methods allowed still holds.
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

fn code_of(status: StatusCode) -> Code {
    match status {
        StatusCode::BAD_REQUEST => Code::BadRequest,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::NOT_ACCEPTABLE => Code::NotAcceptable,
        StatusCode::PAYLOAD_TOO_LARGE => Code::BodyTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => Code::InvalidBody,
        StatusCode::TOO_MANY_REQUESTS => Code::TooManyRequests,
        status if status.is_server_error() => Code::Internal,
        _ => Code::Rejected,
    }
}

fn message_of(status: StatusCode, text: String, method: &Method, path: &str) -> String {
    if !text.is_empty() {
        return text;
    }
    match status {
        StatusCode::NOT_FOUND => format!("there is no {method} {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{path} does not take {method}"),
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is over the limit of {MAX_REQUEST_BODY} bytes")
        }
        other => other
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_lowercase(),
    }
}
