//! Connections: consent, OAuth against the sandbox, sealed tokens, who sees what, and health.

use reqwest::{Method, StatusCode, header};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn create_connection(app: &TestApp, body: Value) -> reqwest::Response {
    app.request(Some(Role::Admin), Method::POST, "/api/v1/connections")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The admin starts an authorisation and the browser opens its URL (the sandbox approves at
/// once): the callback URL it is sent back to.
async fn approved_callback(app: &TestApp, connection_id: &str) -> String {
    let started = app
        .request(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection_id}/authorize"),
        )
        .send()
        .await
        .unwrap();
    let url = TestApp::json(started).await["authorization_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let consent = app.http.get(&url).send().await.unwrap();
    consent.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Plays the browser: opens the authorization URL (the sandbox approves at once) and follows
/// the redirect to the server's callback. Returns where the server sends the browser next.
pub(crate) async fn authenticate(app: &TestApp, connection_id: &str) -> String {
    let started = app
        .request(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection_id}/authorize"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::OK);
    let url = TestApp::json(started).await["authorization_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("state="),
        "{url}"
    );
    let consent = app.http.get(&url).send().await.unwrap();
    let callback = consent.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        callback.starts_with(&app.url("/oauth/callback")),
        "{callback}"
    );
    // The browser of the admin who started it: the callback completes only in their session.
    let landed = app
        .http
        .get(&callback)
        .bearer_auth(app.token(Role::Admin))
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    landed.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_admin_connects_with_consent_and_oauth() {
    let app = spawn_app().await;
    let refused = create_connection(&app, json!({ "name": "Marketing CC" })).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(TestApp::json(refused).await["code"], "consent_required");

    let created = create_connection(&app, json!({ "name": "Marketing CC", "consent": true })).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = TestApp::json(created).await;
    assert_eq!(created["health"], "not_authenticated");
    assert_eq!(
        created["usable_by"], "admins",
        "admins only unless said otherwise"
    );
    assert_eq!(created["kind"], "constant_contact");
    let id = created["id"].as_str().unwrap().to_owned();
    let duplicate =
        create_connection(&app, json!({ "name": "Marketing CC", "consent": true })).await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);

    let unusable = app
        .request(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}/lists"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(TestApp::json(unusable).await["code"], "connection_unusable");

    let landing = authenticate(&app, &id).await;
    assert_eq!(
        landing,
        app.url(&format!("/connections/{id}?authenticated=1"))
    );
    let connection = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}"),
            None,
        )
        .await
        .1;
    assert_eq!(connection["health"], "healthy");
    let text = connection.to_string();
    assert!(
        !text.contains("token"),
        "no token ever leaves the server: {text}"
    );

    let stored = app
        .state
        .store
        .connection(id.parse().unwrap())
        .await
        .unwrap();
    let sealed = stored.tokens_sealed.expect("tokens are stored");
    assert!(
        !sealed.windows(12).any(|w| w == b"access_token"),
        "the stored tokens are sealed, not plain JSON"
    );

    let lists = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}/lists"),
            None,
        )
        .await
        .1;
    assert_eq!(lists[0]["name"], "Newsletter");

    let me = app
        .request(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{id}/export-user"),
        )
        .send()
        .await
        .unwrap();
    let admin = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/me", None)
        .await
        .1;
    assert_eq!(TestApp::json(me).await["export_user_id"], admin["id"]);
}

#[tokio::test]
async fn a_state_is_used_once() {
    let app = spawn_app().await;
    let id = TestApp::json(create_connection(&app, json!({ "name": "CC", "consent": true })).await)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let callback = approved_callback(&app, &id).await;
    let as_admin = |url: &str| app.http.get(url).bearer_auth(app.token(Role::Admin)).send();
    let first = as_admin(&callback).await.unwrap();
    assert!(
        first.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("?authenticated=1")
    );
    let replay = as_admin(&callback).await.unwrap();
    let location = replay.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.contains("oauth_error=") && location.contains("already+used"),
        "{location}"
    );
    let forged = app
        .http
        .get(app.url("/oauth/callback?state=made-up&code=abc"))
        .send()
        .await
        .unwrap();
    assert!(
        forged.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("oauth_error=")
    );
}

#[tokio::test]
async fn contributors_see_shared_connections_by_name_and_type_only() {
    let app = spawn_app().await;
    let id = TestApp::json(
        create_connection(&app, json!({ "name": "Private CC", "consent": true })).await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    authenticate(&app, &id).await;
    let seen = app
        .call(
            Some(Role::Contributor),
            Method::GET,
            "/api/v1/connections",
            None,
        )
        .await
        .1;
    assert_eq!(
        seen,
        json!([]),
        "admins-only connections are not shown to contributors"
    );
    let lists = app
        .request(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/connections/{id}/lists"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(lists.status(), StatusCode::FORBIDDEN);

    let shared = app
        .request(
            Some(Role::Admin),
            Method::PATCH,
            &format!("/api/v1/connections/{id}"),
        )
        .json(&json!({ "usable_by": "admins_and_contributors" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        TestApp::json(shared).await["usable_by"],
        "admins_and_contributors"
    );
    let seen = app
        .call(
            Some(Role::Contributor),
            Method::GET,
            "/api/v1/connections",
            None,
        )
        .await
        .1;
    assert_eq!(
        seen,
        json!([{ "id": id, "name": "Private CC", "kind": "constant_contact" }])
    );
    let lists = app
        .request(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/connections/{id}/lists"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        lists.status(),
        StatusCode::OK,
        "a contributor may use a shared connection"
    );
    let (viewer, _) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/connections/{id}/lists"),
            None,
        )
        .await;
    assert_eq!(viewer, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_refused_refresh_token_marks_the_connection_for_reauthentication() {
    let app = spawn_app().await;
    let id = TestApp::json(create_connection(&app, json!({ "name": "CC", "consent": true })).await)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    authenticate(&app, &id).await;
    app.sandbox.state().revoke_tokens();
    app.sandbox.state().expire_access_tokens();

    let failed = app
        .request(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}/lists"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::CONFLICT);
    assert_eq!(
        TestApp::json(failed).await["code"],
        "connection_needs_reauthentication"
    );
    let connection = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}"),
            None,
        )
        .await
        .1;
    assert_eq!(connection["health"], "needs_reauthentication");
    let fast = app
        .request(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}/lists"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        TestApp::json(fast).await["code"],
        "connection_unusable",
        "later calls fail fast without asking Constant Contact"
    );

    authenticate(&app, &id).await;
    let connection = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}"),
            None,
        )
        .await
        .1;
    assert_eq!(
        connection["health"], "healthy",
        "authenticating again repairs it"
    );

    let removed = app
        .request(
            Some(Role::Admin),
            Method::DELETE,
            &format!("/api/v1/connections/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let audit = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/audit", None)
        .await
        .1;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["removed", "authenticated", "authenticated", "created"]
    );
}

#[tokio::test]
async fn an_authorisation_completes_only_for_the_admin_who_started_it() {
    let app = spawn_app().await;
    let other_admin = app
        .state
        .store
        .create_user(&segsync_store::NewUser {
            username: "mallory".into(),
            display_name: "Another admin".into(),
            role: Role::Admin,
            password_hash: "unused".into(),
        })
        .await
        .unwrap();
    let other_token = segsync_server::auth::new_token("sgs_");
    app.state
        .store
        .create_api_token(
            other_admin.id,
            "tests",
            &segsync_server::auth::hash_token(&other_token),
        )
        .await
        .unwrap();
    let id = TestApp::json(create_connection(&app, json!({ "name": "CC", "consent": true })).await)
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Two authorisations started by the admin; one redirect followed without a session,
    // one in another admin's.
    for finisher in [None, Some(other_token.as_str())] {
        let callback = approved_callback(&app, &id).await;
        let mut landing = app.http.get(&callback);
        if let Some(token) = finisher {
            landing = landing.bearer_auth(token);
        }
        let landed = landing.send().await.unwrap();
        let location = landed.headers()[header::LOCATION].to_str().unwrap();
        assert!(
            location.contains("oauth_error=") && location.contains("admin+who+started+it"),
            "{finisher:?}: {location}"
        );
    }
    let (_, connection) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{id}"),
            None,
        )
        .await;
    assert_eq!(connection["health"], "not_authenticated", "{connection}");
}

/// Constant Contact sends the browser back only to a redirect URI registered for the API key.
/// A server whose public URL differs from the one registered is refused at the consent step:
/// no code comes back, the connection stays unauthenticated, and segsync says which URI must be
/// registered.
#[tokio::test]
async fn a_redirect_uri_not_registered_for_the_api_key_is_refused_and_nothing_is_authenticated() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.public_url = url::Url::parse("http://127.0.0.1:1/segsync/").unwrap();
    })
    .await;
    let created = create_connection(
        &app,
        json!({ "name": "CC", "consent": true, "usable_by": "admins" }),
    )
    .await;
    let connection = TestApp::json(created).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = app
        .request(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection}/authorize"),
        )
        .send()
        .await
        .unwrap();
    let started = TestApp::json(started).await;
    assert_eq!(
        started["redirect_uri"],
        "http://127.0.0.1:1/segsync/oauth/callback"
    );
    let consent = app
        .http
        .get(started["authorization_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::BAD_REQUEST);
    assert!(consent.headers().get(header::LOCATION).is_none());
    let page = consent.text().await.unwrap();
    assert!(page.contains("redirect_uri"), "{page}");
    let (_, shown) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{connection}"),
            None,
        )
        .await;
    assert_eq!(shown["health"], "not_authenticated", "{shown}");
}
