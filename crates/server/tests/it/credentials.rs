//! Credentials that end when they should: an API token makes no token that outlives it; a new
//! password and a sign-out everywhere end the user's API tokens (but the one that asked);
//! admins list and revoke anyone's tokens; wrong current passwords are limited like sign-ins.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::accounts::{id_of, me_with_token, session};
use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// A call with `token` as its bearer: the status and the body.
async fn call_with(
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
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Makes an API token as the caller of `token`, lasting `days` (or until revoked).
async fn make_token(
    app: &TestApp,
    token: &str,
    name: &str,
    days: Option<u32>,
) -> (StatusCode, Value) {
    let mut body = json!({ "name": name });
    if let Some(days) = days {
        body["expires_in_days"] = json!(days);
    }
    call_with(app, token, Method::POST, "/api/v1/me/tokens", Some(body)).await
}

async fn works(app: &TestApp, token: &str) -> bool {
    me_with_token(app, token).await == StatusCode::OK
}

#[tokio::test]
async fn an_expiring_token_makes_no_token_that_outlives_it() {
    let app = spawn_app().await;
    let (status, three_days) = make_token(
        &app,
        app.token(Role::Contributor),
        "for three days",
        Some(3),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{three_days}");
    let three_days = three_days["token"].as_str().unwrap().to_owned();

    for (days, what) in [(None, "forever"), (Some(3), "three days from now")] {
        let (status, refused) = make_token(&app, &three_days, "longer", days).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {refused}"
        );
        assert_eq!(refused["details"]["field"], "expires_in_days");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("give at most 2 days"),
            "{refused}"
        );
    }
    let (status, made) = make_token(&app, &three_days, "shorter", Some(2)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");

    let (status, one_day) = make_token(&app, app.token(Role::Contributor), "a day", Some(1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, refused) =
        make_token(&app, one_day["token"].as_str().unwrap(), "any", Some(1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("sign in to make tokens"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_new_password_ends_the_users_api_tokens_but_the_one_that_asked() {
    let app = spawn_app().await;
    let first = app.token(Role::Viewer).to_owned();
    let (_, asking) = make_token(&app, &first, "asking", None).await;
    let asking = asking["token"].as_str().unwrap().to_owned();
    let (_, nightly) = make_token(&app, &first, "nightly", None).await;
    let nightly = nightly["token"].as_str().unwrap().to_owned();

    let (status, body) = call_with(
        &app,
        &asking,
        Method::PUT,
        "/api/v1/me/password",
        Some(json!({ "current_password": PASSWORD, "new_password": "a brand new password" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(works(&app, &asking).await, "the token that asked goes on");
    assert!(!works(&app, &first).await);
    assert!(!works(&app, &nightly).await);

    let viewer = id_of(&app, "viewer").await;
    let (_, audit) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/audit?action=password_changed&actor_id={viewer}"),
            None,
        )
        .await;
    let ended: Vec<String> =
        serde_json::from_value(audit[0]["detail"]["api_tokens_ended"].clone()).unwrap();
    assert_eq!(ended.len(), 2, "the first token and nightly: {audit}");
    assert!(ended.contains(&"nightly".to_owned()), "{ended:?}");
}

#[tokio::test]
async fn admins_see_and_revoke_anyones_tokens_and_signing_out_everywhere_ends_them() {
    let app = spawn_app().await;
    let viewer = id_of(&app, "viewer").await;
    let (_, nightly) = make_token(&app, app.token(Role::Viewer), "nightly", None).await;
    let (nightly_id, nightly) = (
        nightly["id"].as_str().unwrap().to_owned(),
        nightly["token"].as_str().unwrap().to_owned(),
    );

    let (status, listed) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/users/{viewer}/tokens"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|token| token["name"] == "nightly"),
        "{listed}"
    );
    assert!(
        !listed.to_string().contains(&nightly),
        "a listing never shows a token"
    );
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::DELETE,
            &format!("/api/v1/users/{viewer}/tokens/{nightly_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!works(&app, &nightly).await, "revoked by an admin");
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::DELETE,
            &format!("/api/v1/users/{viewer}/tokens/{nightly_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone already");

    assert!(works(&app, app.token(Role::Viewer)).await);
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/users/{viewer}/sign-out"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        !works(&app, app.token(Role::Viewer)).await,
        "signing out everywhere ended the API tokens too"
    );
}

#[tokio::test]
async fn wrong_current_passwords_are_limited_apart_from_sign_in() {
    let app = spawn_app().await;
    let change = |current: &str| json!({ "current_password": current, "new_password": "a brand new password" });
    let token = app.token(Role::Viewer).to_owned();
    for _ in 0..5 {
        let (status, body) = call_with(
            &app,
            &token,
            Method::PUT,
            "/api/v1/me/password",
            Some(change("not my password")),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let (status, body) = call_with(
        &app,
        &token,
        Method::PUT,
        "/api/v1/me/password",
        Some(change(PASSWORD)),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("sign_in_locked")),
        "even the right password waits: {body}"
    );
    assert!(
        session(&app, "viewer", PASSWORD).await.is_ok(),
        "sign-in is counted apart"
    );
}
