//! Every rejection is the API's JSON `{code, message}`, whatever rejected the request: the
//! handler, or the framework before it (malformed JSON, wrong types, bad path or query
//! parameters, unknown routes and methods, a body over the limit).

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::Value;

use crate::helpers::spawn_app;

/// A request (method, path, content type and body) and the status and code it must get.
type Case<'a> = (
    Method,
    &'a str,
    Option<(&'a str, String)>,
    StatusCode,
    &'a str,
);

#[tokio::test]
async fn every_rejection_answers_the_api_error_json() {
    let app = spawn_app().await;
    let too_large = format!("{{\"name\": \"{}\"}}", "x".repeat(1_100_000));
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            "/api/v1/segments",
            Some(("application/json", "{ not json".to_owned())),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Method::POST,
            "/api/v1/segments",
            Some(("application/json", r#"{"name": 5, "rule": []}"#.to_owned())),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            Method::POST,
            "/api/v1/segments",
            Some(("text/plain", "{}".to_owned())),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Method::POST,
            "/api/v1/segments",
            Some(("application/json", too_large)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            Method::GET,
            "/api/v1/segments/not-a-uuid",
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Method::GET,
            "/api/v1/runs?limit=many",
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            Method::GET,
            "/api/v1/nothing-here",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Method::PATCH,
            "/api/v1/segments",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let mut request = app.request(Some(Role::Admin), method.clone(), path);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.unwrap();
        let what = format!("{method} {path}");
        assert_eq!(response.status(), status, "{what}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{what}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], code, "{what}: {error}");
        assert!(
            !error["message"].as_str().unwrap().is_empty(),
            "{what}: {error}"
        );
    }
}
