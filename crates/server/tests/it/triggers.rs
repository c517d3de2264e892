//! A pipeline's word: a token scoped to `trigger` starts the runs of the exports that follow
//! the data and reads them, and may do nothing else; a `read` token only reads.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::in_step::export_in_mode;

/// A token of `role` scoped to `scope`, made through the API.
async fn scoped_token(app: &TestApp, role: Role, scope: &str) -> String {
    let (status, made) = app
        .call(
            Some(role),
            Method::POST,
            "/api/v1/me/tokens",
            Some(json!({ "name": format!("pipeline {scope}"), "scope": scope })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["scope"], scope);
    made["token"].as_str().unwrap().to_owned()
}

async fn with_token(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_trigger_token_starts_the_runs_that_follow_the_data_and_may_do_nothing_else() {
    let app = spawn_app().await;
    let (export, _) = export_in_mode(&app, "add_only", |_, _| {}).await;
    let (status, schedule) = app
        .call(
            Some(Role::Admin),
            Method::PUT,
            "/api/v1/schedule",
            Some(json!({ "frequency": "on_change", "times": [], "time_zone": "UTC" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{schedule}");
    let token = scoped_token(&app, Role::Contributor, "trigger").await;

    let (status, refused) = with_token(
        &app,
        &token,
        Method::POST,
        "/api/v1/triggers/source-changed",
        Some(json!({ "source": "shipments" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("profiles"),
        "{refused}"
    );

    let (status, answer) = with_token(
        &app,
        &token,
        Method::POST,
        "/api/v1/triggers/source-changed",
        Some(json!({ "source": "profiles", "version": "nightly load 42" })),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let started = answer["started"].as_array().unwrap();
    assert_eq!(started.len(), 1, "{answer}");
    assert_eq!(started[0]["export_id"], export.as_str());
    assert_eq!(started[0]["trigger"], "pipeline");
    let run = started[0]["id"].as_str().unwrap().to_owned();
    let ended = loop {
        let (status, body) = with_token(
            &app,
            &token,
            Method::GET,
            &format!("/api/v1/runs/{run}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if !matches!(body["status"].as_str(), Some("queued" | "running")) {
            break body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ended["status"], "succeeded", "{ended}");

    // Said again at once: the export's least interval holds it back, saying why.
    let (status, answer) = with_token(
        &app,
        &token,
        Method::POST,
        "/api/v1/triggers/source-changed",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["started"], json!([]), "{answer}");
    assert!(
        answer["held"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("min_minutes_between"),
        "{answer}"
    );

    for (method, path) in [
        (Method::GET, "/api/v1/exports".to_owned()),
        (Method::GET, "/api/v1/runs".to_owned()),
        (Method::POST, format!("/api/v1/exports/{export}/run")),
        (Method::GET, format!("/api/v1/runs/{run}/skipped.csv")),
        (Method::GET, "/api/v1/me".to_owned()),
    ] {
        let (status, refused) = with_token(&app, &token, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("scope is trigger"),
            "{refused}"
        );
    }

    // A viewer's trigger token may not start runs: the role still decides.
    let viewers = scoped_token(&app, Role::Viewer, "trigger").await;
    let (status, _) = with_token(
        &app,
        &viewers,
        Method::POST,
        "/api/v1/triggers/source-changed",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The audit log says who said a source changed, and the version they gave.
    let (_, audit) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            "/api/v1/audit?action=source_changed",
            None,
        )
        .await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["detail"]["version"] == "nightly load 42"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_read_token_reads_and_changes_nothing() {
    let app = spawn_app().await;
    let (export, _) = export_in_mode(&app, "add_only", |_, _| {}).await;
    let token = scoped_token(&app, Role::Admin, "read").await;
    let (status, _) = with_token(&app, &token, Method::GET, "/api/v1/exports", None).await;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in [
        (Method::POST, format!("/api/v1/exports/{export}/run")),
        (Method::POST, "/api/v1/triggers/source-changed".to_owned()),
        (Method::DELETE, format!("/api/v1/exports/{export}")),
    ] {
        let (status, refused) =
            with_token(&app, &token, method.clone(), &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {refused}");
    }
}

#[tokio::test]
async fn a_signed_dbt_cloud_webhook_of_a_successful_run_starts_the_runs_and_nothing_else_does() {
    use hmac::{Hmac, Mac};
    const SECRET: &str = "dbt webhook secret";
    let app = crate::helpers::spawn_app_with(|config| {
        config.triggers.dbt_cloud_secret = Some(SECRET.into());
    })
    .await;
    export_in_mode(&app, "add_only", |_, _| {}).await;
    app.call(
        Some(Role::Admin),
        Method::PUT,
        "/api/v1/schedule",
        Some(json!({ "frequency": "on_change", "times": [], "time_zone": "UTC" })),
    )
    .await;
    let post = |body: Value, secret: &'static str| {
        let body = body.to_string();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let signature: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        app.http
            .post(app.url("/api/v1/triggers/dbt-cloud"))
            .header("authorization", signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let event = |status: &str| {
        json!({
            "accountId": 1,
            "eventType": "job.run.completed",
            "data": { "jobId": "42", "runId": "9001", "runStatus": status }
        })
    };
    let forged = post(event("Success"), "not the secret").await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let failed: Value = post(event("Errored"), SECRET)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed["started"], json!([]), "{failed}");
    let succeeded = post(event("Success"), SECRET).await.unwrap();
    assert_eq!(succeeded.status(), StatusCode::ACCEPTED);
    let succeeded: Value = succeeded.json().await.unwrap();
    assert_eq!(
        succeeded["started"].as_array().unwrap().len(),
        1,
        "{succeeded}"
    );
}
