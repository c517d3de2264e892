//! Small leaks closed: answers with one-time secrets or members are never stored by a browser
//! or a proxy, and a viewer is told that the profiles could not be read without being told
//! where they live.

use reqwest::{Method, StatusCode, header};
use segsync_store::Role;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// Saves a segment every profile is a member of: the answer's status and body.
async fn a_segment_of_everyone(app: &TestApp) -> (StatusCode, serde_json::Value) {
    app.call(
        Some(Role::Contributor),
        Method::POST,
        "/api/v1/segments",
        Some(json!({ "name": "all", "rule": { "attribute": "email", "op": "is_not_null" } })),
    )
    .await
}

#[tokio::test]
async fn answers_with_secrets_or_members_are_never_stored_and_assets_may_be() {
    let app = spawn_app().await;
    let cache_control = |response: &reqwest::Response| {
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let token = app
        .request(Some(Role::Viewer), Method::POST, "/api/v1/me/tokens")
        .json(&json!({ "name": "one-time" }))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::CREATED);
    assert_eq!(cache_control(&token).as_deref(), Some("no-store"));
    let user = app
        .request(Some(Role::Admin), Method::POST, "/api/v1/users")
        .json(&json!({ "username": "grace", "role": "viewer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::CREATED);
    assert_eq!(
        cache_control(&user).as_deref(),
        Some("no-store"),
        "a generated password"
    );
    let (_, segment) = a_segment_of_everyone(&app).await;
    let preview = app
        .request(
            Some(Role::Viewer),
            Method::GET,
            &format!(
                "/api/v1/segments/{}/preview",
                segment["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    assert_eq!(
        cache_control(&preview).as_deref(),
        Some("no-store"),
        "members"
    );
    let page = app.http.get(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(cache_control(&page).as_deref(), Some("no-store"));
    let stylesheet = app
        .http
        .get(app.url("/assets/console.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(stylesheet.status(), StatusCode::OK);
    assert_ne!(cache_control(&stylesheet).as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_viewer_is_told_the_profiles_are_unreadable_but_not_where_they_live() {
    let app = spawn_app().await;
    let (status, segment) = a_segment_of_everyone(&app).await;
    assert_eq!(status, StatusCode::CREATED, "{segment}");
    let location = app
        .config()
        .profiles
        .as_ref()
        .unwrap()
        .location
        .as_str()
        .to_owned();
    std::fs::remove_file(&location).unwrap();
    let (status, refused) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!(
                "/api/v1/segments/{}/preview",
                segment["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{refused}");
    assert_eq!(refused["code"], "profiles_unreadable");
    let message = refused["message"].as_str().unwrap();
    let folder = std::path::Path::new(&location).parent().unwrap();
    let file = std::path::Path::new(&location).file_name().unwrap();
    assert!(
        !message.contains(folder.to_str().unwrap()) && !message.contains(file.to_str().unwrap()),
        "{message}"
    );
    assert!(message.contains("System page"), "{message}");
}
