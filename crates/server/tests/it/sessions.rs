//! Signing in and out in a browser's way: cookies, CSRF, throttling; and API tokens.

use reqwest::{Method, StatusCode, header};
use segsync_store::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// Signs in and returns the session cookie and the CSRF token.
async fn sign_in(app: &TestApp, username: &str) -> (String, String) {
    let response = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain HTTP on loopback: {set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let body = TestApp::json(response).await;
    assert_eq!(body["user"]["username"], username);
    assert!(
        body["user"].get("password_hash").is_none(),
        "the hash never leaves the server"
    );
    (cookie, body["csrf_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_session_cookie_needs_its_csrf_token_to_change_anything() {
    let app = spawn_app().await;
    let (cookie, csrf) = sign_in(&app, "admin").await;

    let me = app
        .http
        .get(app.url("/api/v1/me"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(TestApp::json(me).await["role"], "admin");

    let body = json!({ "username": "zoe", "role": "viewer", "password": "zoe's long password" });
    let forged = app
        .http
        .post(app.url("/api/v1/users"))
        .header(header::COOKIE, &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(TestApp::json(forged).await["code"], "csrf");
    let wrong = app
        .http
        .post(app.url("/api/v1/users"))
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", "guess")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let made = app
        .http
        .post(app.url("/api/v1/users"))
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);

    let out = app
        .http
        .delete(app.url("/api/v1/session"))
        .header(header::COOKIE, &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = app
        .http
        .get(app.url("/api/v1/me"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "the session ended on the server, not only in the browser"
    );
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_locked_out() {
    let app = spawn_app().await;
    let attempt = |password: &'static str| {
        app.http
            .post(app.url("/api/v1/session"))
            .json(&json!({ "username": "viewer", "password": password }))
            .send()
    };
    for _ in 0..4 {
        let response = attempt("wrong password!").await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(TestApp::json(response).await["code"], "invalid_credentials");
    }
    assert_eq!(
        attempt("wrong password!").await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "the fifth failure locks"
    );
    let locked = attempt(PASSWORD).await.unwrap();
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits out the lock"
    );
    assert_eq!(TestApp::json(locked).await["code"], "sign_in_locked");

    let unknown = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": "ghost", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        TestApp::json(unknown).await["code"],
        "invalid_credentials",
        "an unknown user looks like a wrong password"
    );
}

#[tokio::test]
async fn an_api_token_is_shown_once_and_works_until_revoked() {
    let app = spawn_app().await;
    let created = app
        .request(Some(Role::Contributor), Method::POST, "/api/v1/me/tokens")
        .json(&json!({ "name": "nightly" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = TestApp::json(created).await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sgs_"));

    let me = app
        .http
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(TestApp::json(me).await["username"], "contributor");
    let listed = app
        .http
        .get(app.url("/api/v1/me/tokens"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let listed = TestApp::json(listed).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none()),
        "listing never shows a token: {listed}"
    );

    let id = created["id"].as_str().unwrap();
    let revoked = app
        .http
        .delete(app.url(&format!("/api/v1/me/tokens/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let after = app
        .http
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let audit = app
        .request(Some(Role::Admin), Method::GET, "/api/v1/audit")
        .send()
        .await
        .unwrap();
    let actions: Vec<String> = TestApp::json(audit)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["action"], e["object_kind"]))
        .collect();
    assert_eq!(
        actions,
        ["\"removed\" \"api_token\"", "\"created\" \"api_token\""]
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    app.state.store.close().await;
    let closed = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(closed.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn guesses_at_unknown_usernames_write_nothing_and_an_address_is_refused_after_its_failures() {
    let app =
        crate::helpers::spawn_app_with(|config| config.login_max_failures_per_address = 4).await;
    for n in 0..4 {
        let guess = app
            .http
            .post(app.url("/api/v1/session"))
            .json(&json!({ "username": format!("guess-{n}"), "password": "a wrong password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(guess.status(), StatusCode::UNAUTHORIZED);
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    assert_eq!(
        rows, 0,
        "no row is written for a username that does not exist"
    );
    let refused = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": "viewer", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = TestApp::json(refused).await;
    assert_eq!(body["code"], "sign_in_locked");
    assert!(
        body["message"].as_str().unwrap().contains("this address"),
        "{body}"
    );
}

#[tokio::test]
async fn the_sign_in_form_takes_only_its_own_posts_and_pages_keep_to_themselves() {
    let app = spawn_app().await;
    let page = app.http.get(app.url("/sign-in")).send().await.unwrap();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ] {
        assert_eq!(page.headers()[name], value, "{name}");
    }
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'"),
        "{policy}"
    );
    let cookie = page.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let token = html
        .split("name=\"form_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();

    // Posted from another site: no token, or a token without its cookie.
    for (form_token, with_cookie) in [("", true), (token.as_str(), false), ("forged", true)] {
        let mut post = app.http.post(app.url("/sign-in")).form(&[
            ("username", "viewer"),
            ("password", PASSWORD),
            ("form_token", form_token),
        ]);
        if with_cookie {
            post = post.header(header::COOKIE, &cookie);
        }
        let refused = post.send().await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "{form_token:?} {with_cookie}"
        );
        assert!(
            refused
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .all(|value| { !value.to_str().unwrap().starts_with("segsync_session=") })
        );
    }
    let signed_in = app
        .http
        .post(app.url("/sign-in"))
        .header(header::COOKIE, &cookie)
        .form(&[
            ("username", "viewer"),
            ("password", PASSWORD),
            ("form_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert!(
        signed_in.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("segsync_session=")
    );
}
