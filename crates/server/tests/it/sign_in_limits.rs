//! Sign-in limits that hold when guesses come all at once and when the server sits behind a
//! reverse proxy; a locked username keeps its owner's API tokens working, and an admin lifts
//! the lock.

use reqwest::{Method, StatusCode, header};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::accounts::{id_of, me_with_token};
use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

/// What 429 answers may say: the username or address is locked, or the server is busy
/// checking other passwords.
const REFUSED_UNCHECKED: [&str; 2] = ["sign_in_locked", "busy"];

async fn sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
    from: Option<&str>,
) -> (StatusCode, Value, bool) {
    let mut request = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": username, "password": password }));
    if let Some(address) = from {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let retry_after = response.headers().contains_key(header::RETRY_AFTER);
    (status, TestApp::json(response).await, retry_after)
}

#[tokio::test]
async fn three_hundred_guesses_at_once_get_no_more_checks_than_the_limit() {
    let app = spawn_app().await;
    let guesses = (0..300).map(|n| {
        let app = &app;
        async move { sign_in(app, "viewer", &format!("wrong guess {n}"), None).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|(status, body, _)| {
            *status == StatusCode::UNAUTHORIZED && body["code"] == "invalid_credentials"
        })
        .count();
    assert_eq!(checked, 5, "only the limit's worth of guesses was checked");
    for (status, body, retry_after) in &answers {
        if *status != StatusCode::UNAUTHORIZED {
            assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
            assert!(
                REFUSED_UNCHECKED.contains(&body["code"].as_str().unwrap()),
                "{body}"
            );
            assert!(retry_after, "a refusal says when to try again: {body}");
        }
    }

    let (status, body, _) = sign_in(&app, "viewer", PASSWORD, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("sign_in_locked")),
        "even the right password waits out the lock"
    );
    assert_eq!(
        me_with_token(&app, app.token(Role::Viewer)).await,
        StatusCode::OK,
        "the owner's API token works while the username is locked"
    );

    let viewer = id_of(&app, "viewer").await;
    let refused = app
        .request(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/users/{viewer}/unlock"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let unlocked = app
        .request(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/users/{viewer}/unlock"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unlocked.status(), StatusCode::OK);
    let (status, body, _) = sign_in(&app, "viewer", PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "an admin lifted the lock: {body}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = spawn_app_with(|config| {
        config.login_max_failures_per_address = 2;
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for _ in 0..2 {
        let (status, _, _) = sign_in(&app, "ghost", "a wrong password", Some("203.0.113.1")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // A client that writes another address in front of its own is still itself.
    let (status, body, _) = sign_in(
        &app,
        "ghost",
        "a wrong password",
        Some("198.51.100.99, 203.0.113.1"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("sign_in_locked")),
        "{body}"
    );
    let (status, body, _) = sign_in(&app, "viewer", PASSWORD, Some("203.0.113.2")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another client behind the same proxy is not locked out: {body}"
    );
}

#[tokio::test]
async fn without_trusted_proxies_forwarding_headers_are_ignored() {
    let app = spawn_app_with(|config| config.login_max_failures_per_address = 2).await;
    for n in 0..2 {
        let from = format!("203.0.113.{n}");
        let (status, _, _) = sign_in(&app, "ghost", "a wrong password", Some(&from)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body, _) = sign_in(&app, "viewer", PASSWORD, Some("203.0.113.9")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("sign_in_locked")),
        "a header the peer wrote does not make it someone else: {body}"
    );
}
