//! The lifecycle of accounts through the API: disabled users lose their sessions and tokens at
//! once, roles change but the last admin stays, passwords change, admins sign users out
//! everywhere, and API tokens may expire.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// Signs `username` in with `password`; the session cookie, or the refusal's status.
pub(crate) async fn session(
    app: &TestApp,
    username: &str,
    password: &str,
) -> Result<String, StatusCode> {
    let response = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    if !response.status().is_success() {
        return Err(response.status());
    }
    Ok(response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned())
}

async fn me_with_cookie(app: &TestApp, cookie: &str) -> StatusCode {
    app.http
        .get(app.url("/api/v1/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

pub(crate) async fn me_with_token(app: &TestApp, token: &str) -> StatusCode {
    app.http
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

pub(crate) async fn id_of(app: &TestApp, username: &str) -> String {
    let (_, users) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/users", None)
        .await;
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["username"] == username)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_tokens_at_once() {
    let app = spawn_app().await;
    let contributor = id_of(&app, "contributor").await;
    let cookie = session(&app, "contributor", PASSWORD).await.unwrap();
    let token = app.token(Role::Contributor).to_owned();
    assert_eq!(me_with_cookie(&app, &cookie).await, StatusCode::OK);

    let (status, disabled) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/users/{contributor}/disable"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!(disabled["disabled"], true);
    assert_eq!(
        me_with_cookie(&app, &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me_with_token(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        session(&app, "contributor", PASSWORD).await,
        Err(StatusCode::UNAUTHORIZED),
        "a disabled user cannot sign in"
    );

    app.call(
        Some(Role::Admin),
        Method::POST,
        &format!("/api/v1/users/{contributor}/enable"),
        None,
    )
    .await;
    let again = session(&app, "contributor", PASSWORD).await.unwrap();
    assert_eq!(me_with_cookie(&app, &again).await, StatusCode::OK);
    assert_eq!(
        me_with_cookie(&app, &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_with_token(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "the tokens were revoked, not paused"
    );

    let (_, audit) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/audit", None)
        .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["object_id"] == contributor.as_str())
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"disabled") && actions.contains(&"enabled"),
        "{audit}"
    );
}

#[tokio::test]
async fn roles_change_but_the_last_admin_stays_an_admin() {
    let app = spawn_app().await;
    let viewer = id_of(&app, "viewer").await;
    let admin = id_of(&app, "admin").await;
    let (status, changed) = app
        .call(
            Some(Role::Admin),
            Method::PUT,
            &format!("/api/v1/users/{viewer}/role"),
            Some(json!({ "role": "contributor" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["role"], "contributor");
    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            "/api/v1/segments",
            Some(json!({ "name": "mine", "rule": { "attribute": "email", "op": "is_not_null" } })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "the new role holds at once");

    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/v1/users/{admin}/role"),
            Some(json!({ "role": "viewer" })),
        ),
        (Method::POST, format!("/api/v1/users/{admin}/disable"), None),
    ] {
        let (status, refused) = app.call(Some(Role::Admin), method, &path, body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {refused}");
        assert_eq!(refused["code"], "last_admin");
    }
    let (_, me) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/me", None)
        .await;
    assert_eq!(
        (me["role"].clone(), me["disabled"].clone()),
        (json!("admin"), json!(false))
    );
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_tokens_and_an_admin_signs_a_user_out_everywhere()
 {
    let app = spawn_app().await;
    let here = session(&app, "viewer", PASSWORD).await.unwrap();
    let elsewhere = session(&app, "viewer", PASSWORD).await.unwrap();
    let csrf = app.browser_session("viewer").await;
    let change = |current: &str| {
        app.http
            .put(app.url("/api/v1/me/password"))
            .header("cookie", &csrf.0)
            .header("x-csrf-token", &csrf.1)
            .json(&json!({ "current_password": current, "new_password": "a brand new password" }))
            .send()
    };
    let wrong = change("not the password").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(wrong["details"]["field"], "current_password", "{wrong}");
    assert_eq!(
        change(PASSWORD).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        me_with_cookie(&app, &csrf.0).await,
        StatusCode::OK,
        "the session that changed it stays"
    );
    for ended in [&here, &elsewhere] {
        assert_eq!(me_with_cookie(&app, ended).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        me_with_token(&app, app.token(Role::Viewer)).await,
        StatusCode::UNAUTHORIZED,
        "a new password ends the API tokens too"
    );
    assert_eq!(
        session(&app, "viewer", PASSWORD).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let fresh = session(&app, "viewer", "a brand new password")
        .await
        .unwrap();

    let viewer = id_of(&app, "viewer").await;
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/users/{viewer}/sign-out"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for ended in [&csrf.0, &fresh] {
        assert_eq!(me_with_cookie(&app, ended).await, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn an_api_token_may_carry_an_expiry() {
    let app = spawn_app().await;
    let (status, created) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            "/api/v1/me/tokens",
            Some(json!({ "name": "for a week", "expires_in_days": 7 })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let expires = chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let in_a_week = chrono::Utc::now() + chrono::Duration::days(7);
    assert!((expires - in_a_week).num_seconds().abs() < 60, "{created}");
    assert_eq!(
        me_with_token(&app, created["token"].as_str().unwrap()).await,
        StatusCode::OK
    );
    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            "/api/v1/me/tokens",
            Some(json!({ "name": "forever and a day", "expires_in_days": 0 })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // One that has expired no longer works, and is purged.
    let viewer: uuid::Uuid = id_of(&app, "viewer").await.parse().unwrap();
    let token = segsync_server::auth::new_token("sgs_");
    app.state
        .store
        .create_expiring_api_token(
            viewer,
            "expired",
            &segsync_server::auth::hash_token(&token),
            Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .await
        .unwrap();
    assert_eq!(me_with_token(&app, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.state
            .store
            .purge_expired(chrono::Utc::now())
            .await
            .unwrap(),
        1
    );
    let (_, tokens) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/me/tokens", None)
        .await;
    assert!(
        tokens
            .as_array()
            .unwrap()
            .iter()
            .all(|token| token["name"] != "expired"),
        "{tokens}"
    );
}

#[tokio::test]
async fn a_user_added_without_a_password_gets_one_generated_and_shown_once() {
    let app = spawn_app().await;
    let (status, added) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/users",
            Some(serde_json::json!({ "username": "erin", "role": "viewer" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let password = added["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 40, "{password}");
    assert!(
        session(&app, "erin", &password).await.is_ok(),
        "erin signs in with it"
    );
    let (_, listed) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/users", None)
        .await;
    assert!(
        !listed.to_string().contains(&password),
        "the password is never shown again"
    );
    let (status, given) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/users",
            Some(serde_json::json!({ "username": "finn", "role": "viewer", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        given.get("password").is_none(),
        "a password given is not echoed: {given}"
    );
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_user_action_kind_and_day() {
    let app = spawn_app().await;
    let viewer = id_of(&app, "viewer").await;
    let contributor = id_of(&app, "contributor").await;
    for action in ["disable", "enable"] {
        app.call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/users/{viewer}/{action}"),
            None,
        )
        .await;
    }
    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/me/tokens",
            Some(serde_json::json!({ "name": "script" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let admin = id_of(&app, "admin").await;
    let entries = |query: String| {
        let app = &app;
        async move {
            let (status, entries) = app
                .call(
                    Some(Role::Admin),
                    Method::GET,
                    &format!("/api/v1/audit?{query}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {entries}");
            entries
                .as_array()
                .unwrap()
                .iter()
                .map(|entry| {
                    format!(
                        "{} {}",
                        entry["action"].as_str().unwrap(),
                        entry["object_kind"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        entries(format!("actor_id={admin}&kind=user")).await,
        ["enabled user", "disabled user"]
    );
    assert_eq!(
        entries(format!("actor_id={contributor}")).await,
        ["created api_token"]
    );
    assert_eq!(
        entries("action=disabled".to_owned()).await,
        ["disabled user"]
    );
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        entries(format!("since={today}&until={today}&action=enabled")).await,
        ["enabled user"],
        "until takes in the whole day"
    );
    assert!(entries(format!("since={tomorrow}")).await.is_empty());
    let (status, refused) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/audit?since={tomorrow}&until={today}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("until"), "{refused}");
}
