//! Every route against every role, and against no credentials at all.

use reqwest::{Method, StatusCode};
use segsync_store::{Role, Trigger};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// A route, a body that is valid for it, the least role it allows (`None`: anyone signed in),
/// and the answer an allowed caller may get instead of a success because of what an earlier
/// caller did or owns (a run already going, a thing already removed, a token of someone else).
pub(crate) struct Route {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    body: Option<serde_json::Value>,
    least: Option<Role>,
    also_allowed: Option<StatusCode>,
}

/// A rule every profile of the test server matches.
fn everyone() -> serde_json::Value {
    json!({ "attribute": "email", "op": "is_not_null" })
}

fn export_form(name: &str) -> serde_json::Value {
    json!({
        "name": name,
        "connection_id": "{shared}",
        "list_id": "{list}",
        "mapping": { "email": "email" },
        "segment_ids": ["{segment}"],
    })
}

pub(crate) fn routes() -> Vec<Route> {
    let route = |method: Method, path, body, least| Route {
        method,
        path,
        body,
        least,
        also_allowed: None,
    };
    let or = |mut route: Route, status: StatusCode| {
        route.also_allowed = Some(status);
        route
    };
    let contributor = Some(Role::Contributor);
    let admin = Some(Role::Admin);
    vec![
        route(Method::GET, "/metrics", None, None),
        route(Method::GET, "/api/v1/me", None, None),
        route(Method::GET, "/api/v1/me/tokens", None, None),
        route(
            Method::POST,
            "/api/v1/me/tokens",
            Some(json!({ "name": "ci" })),
            None,
        ),
        // The admin's token: others are told it is not theirs.
        or(
            route(Method::DELETE, "/api/v1/me/tokens/{token}", None, None),
            StatusCode::NOT_FOUND,
        ),
        route(Method::GET, "/api/v1/users", None, admin),
        route(
            Method::POST,
            "/api/v1/users",
            Some(
                json!({ "username": "new-{role}", "role": "viewer", "password": "another long password" }),
            ),
            admin,
        ),
        route(Method::GET, "/api/v1/audit", None, admin),
        route(Method::POST, "/api/v1/users/{someone}/disable", None, admin),
        route(Method::POST, "/api/v1/users/{someone}/enable", None, admin),
        route(Method::POST, "/api/v1/users/{someone}/unlock", None, admin),
        route(Method::GET, "/api/v1/users/{someone}/tokens", None, admin),
        or(
            route(
                Method::DELETE,
                "/api/v1/users/{someone}/tokens/{token_id}",
                None,
                admin,
            ),
            StatusCode::NOT_FOUND,
        ),
        route(
            Method::PUT,
            "/api/v1/users/{someone}/role",
            Some(json!({ "role": "contributor" })),
            admin,
        ),
        route(
            Method::POST,
            "/api/v1/users/{someone}/sign-out",
            None,
            admin,
        ),
        route(
            Method::PUT,
            "/api/v1/me/password",
            Some(
                json!({ "current_password": crate::helpers::PASSWORD, "new_password": crate::helpers::PASSWORD }),
            ),
            None,
        ),
        route(Method::GET, "/api/v1/connections", None, None),
        route(Method::GET, "/api/v1/connections/consent-text", None, None),
        route(
            Method::POST,
            "/api/v1/connections",
            Some(json!({ "name": "made by {role}", "consent": true })),
            admin,
        ),
        route(
            Method::PATCH,
            "/api/v1/connections/{connection}",
            Some(json!({ "usable_by": "admins_and_contributors" })),
            admin,
        ),
        // Shared by the change above, so everyone signed in may read its name and type.
        route(Method::GET, "/api/v1/connections/{connection}", None, None),
        route(
            Method::POST,
            "/api/v1/connections/{connection}/authorize",
            None,
            admin,
        ),
        route(
            Method::POST,
            "/api/v1/connections/{connection}/export-user",
            None,
            admin,
        ),
        route(
            Method::GET,
            "/api/v1/connections/{connection}/opt-outs",
            None,
            admin,
        ),
        route(Method::GET, "/api/v1/exclusions", None, admin),
        route(
            Method::POST,
            "/api/v1/exclusions",
            Some(json!({ "emails": ["excluded-by-{role}@example.com"] })),
            admin,
        ),
        route(
            Method::POST,
            "/api/v1/exclusions/remove",
            Some(json!({ "emails": ["excluded-by-{role}@example.com"] })),
            admin,
        ),
        route(
            Method::POST,
            "/api/v1/privacy/erasures",
            Some(json!({ "emails": ["erased-by-{role}@example.com"] })),
            admin,
        ),
        route(Method::GET, "/api/v1/privacy/erasures", None, admin),
        route(
            Method::GET,
            "/api/v1/privacy/erasures/{erasure}",
            None,
            admin,
        ),
        // The erasure did not fail: the role is checked first, then its state.
        or(
            route(
                Method::POST,
                "/api/v1/privacy/erasures/{erasure}/retry",
                None,
                admin,
            ),
            StatusCode::CONFLICT,
        ),
        route(
            Method::GET,
            "/api/v1/privacy/lookup?email=someone@example.com",
            None,
            admin,
        ),
        route(Method::GET, "/api/v1/privacy/held", None, admin),
        route(
            Method::POST,
            "/api/v1/triggers/source-changed",
            Some(json!({ "source": "profiles" })),
            contributor,
        ),
        route(
            Method::GET,
            "/api/v1/connections/{shared}/lists",
            None,
            contributor,
        ),
        route(
            Method::GET,
            "/api/v1/connections/{shared}/custom-fields",
            None,
            contributor,
        ),
        route(Method::GET, "/api/v1/schedule", None, None),
        route(
            Method::PUT,
            "/api/v1/schedule",
            Some(
                json!({ "frequency": "daily", "times": ["09:00:00"], "time_zone": "Europe/Paris" }),
            ),
            admin,
        ),
        route(Method::GET, "/api/v1/alerts", None, admin),
        route(Method::POST, "/api/v1/alerts/test", None, admin),
        route(Method::GET, "/api/v1/system/profiles", None, admin),
        route(Method::GET, "/api/v1/system/quota", None, admin),
        route(Method::GET, "/api/v1/system/about", None, admin),
        route(Method::GET, "/api/v1/system/cluster", None, admin),
        route(Method::GET, "/api/v1/segments", None, None),
        route(
            Method::POST,
            "/api/v1/segments",
            Some(json!({ "name": "made by {role}", "rule": everyone() })),
            contributor,
        ),
        route(
            Method::POST,
            "/api/v1/segments/validate",
            Some(json!({ "name": "checked", "rule": everyone() })),
            None,
        ),
        route(Method::GET, "/api/v1/segments/yaml", None, None),
        route(
            Method::POST,
            "/api/v1/segments/yaml",
            Some(json!({ "segments": [{ "name": "imported by {role}", "rule": everyone() }] })),
            contributor,
        ),
        route(Method::GET, "/api/v1/segments/{segment}", None, None),
        route(
            Method::PUT,
            "/api/v1/segments/{segment}",
            Some(json!({ "name": "matrix", "description": "by {role}", "rule": everyone() })),
            contributor,
        ),
        route(
            Method::POST,
            "/api/v1/segments/{segment}/deactivate",
            None,
            contributor,
        ),
        route(
            Method::POST,
            "/api/v1/segments/{segment}/activate",
            None,
            contributor,
        ),
        route(
            Method::GET,
            "/api/v1/segments/{segment}/preview",
            None,
            None,
        ),
        or(
            route(
                Method::DELETE,
                "/api/v1/segments/{doomed}",
                None,
                contributor,
            ),
            StatusCode::NOT_FOUND,
        ),
        route(Method::GET, "/api/v1/exports", None, None),
        route(
            Method::POST,
            "/api/v1/exports",
            Some(export_form("made by {role}")),
            contributor,
        ),
        route(Method::GET, "/api/v1/exports/{export}", None, None),
        route(
            Method::PUT,
            "/api/v1/exports/{export}",
            Some(export_form("changed by {role}")),
            contributor,
        ),
        route(
            Method::POST,
            "/api/v1/exports/{export}/duplicate",
            None,
            contributor,
        ),
        or(
            route(
                Method::POST,
                "/api/v1/exports/{export}/run",
                None,
                contributor,
            ),
            StatusCode::CONFLICT,
        ),
        route(
            Method::POST,
            "/api/v1/exports/{export}/dry-run",
            None,
            contributor,
        ),
        // A run of the export may still be going: the role is checked first.
        or(
            route(
                Method::POST,
                "/api/v1/exports/{export}/verify",
                None,
                contributor,
            ),
            StatusCode::CONFLICT,
        ),
        route(Method::POST, "/api/v1/exports/run-all", None, contributor),
        route(Method::GET, "/api/v1/exports/{export}/runs", None, None),
        route(Method::GET, "/api/v1/runs", None, None),
        route(Method::GET, "/api/v1/runs/{run}", None, None),
        route(
            Method::GET,
            "/api/v1/runs/{run}/skipped.csv",
            None,
            contributor,
        ),
        // The run has ended: the role is checked first, then the run's state.
        or(
            route(Method::POST, "/api/v1/runs/{run}/cancel", None, contributor),
            StatusCode::CONFLICT,
        ),
        // The run does not await confirmation: the role is checked first, then its state.
        or(
            route(
                Method::POST,
                "/api/v1/runs/{run}/confirm",
                None,
                contributor,
            ),
            StatusCode::CONFLICT,
        ),
        or(
            route(
                Method::POST,
                "/api/v1/runs/{run}/discard",
                None,
                contributor,
            ),
            StatusCode::CONFLICT,
        ),
        route(
            Method::POST,
            "/api/v1/exports/{export}/detach",
            None,
            contributor,
        ),
        or(
            route(
                Method::DELETE,
                "/api/v1/exports/{export}",
                None,
                contributor,
            ),
            StatusCode::NOT_FOUND,
        ),
        route(
            Method::DELETE,
            "/api/v1/connections/{connection}",
            None,
            admin,
        ),
        route(Method::DELETE, "/api/v1/session", None, None),
    ]
}

async fn created_id(app: &TestApp, role: Role, path: &str, body: serde_json::Value) -> String {
    let (status, created) = app.call(Some(role), Method::POST, path, Some(body)).await;
    assert!(status.is_success(), "{path}: {created}");
    created["id"].as_str().unwrap().to_owned()
}

/// The objects the routes' placeholders name, made for the matrix.
async fn fixture(app: &TestApp) -> Vec<(&'static str, String)> {
    let connection = created_id(
        app,
        Role::Admin,
        "/api/v1/connections",
        json!({ "name": "matrix", "consent": true }),
    )
    .await;
    let segment = created_id(
        app,
        Role::Admin,
        "/api/v1/segments",
        json!({ "name": "matrix", "rule": everyone() }),
    )
    .await;
    let doomed = created_id(
        app,
        Role::Admin,
        "/api/v1/segments",
        json!({ "name": "doomed", "rule": everyone() }),
    )
    .await;
    let token = created_id(
        app,
        Role::Admin,
        "/api/v1/me/tokens",
        json!({ "name": "doomed" }),
    )
    .await;
    let someone = created_id(
        app,
        Role::Admin,
        "/api/v1/users",
        json!({ "username": "someone", "role": "viewer", "password": "another long password" }),
    )
    .await;
    let (export, _) = crate::runs::an_export(app).await;
    let (status, erasure) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/privacy/erasures",
            Some(json!({ "emails": ["matrix@example.com"] })),
        )
        .await;
    assert!(status.is_success(), "{erasure}");
    let erasure = erasure["erasure"]["id"].as_str().unwrap().to_owned();
    let (_, export_view) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/exports/{export}"),
            None,
        )
        .await;
    let shared = export_view["connection_id"].as_str().unwrap().to_owned();
    let list = export_view["list_id"].as_str().unwrap().to_owned();
    let run = app
        .state
        .store
        .record_skipped_run(
            export.parse().unwrap(),
            Trigger::Manual,
            None,
            "for the matrix",
        )
        .await
        .unwrap()
        .id
        .to_string();
    vec![
        ("{connection}", connection.clone()),
        ("{segment}", segment.clone()),
        ("{doomed}", doomed.clone()),
        ("{token}", token.clone()),
        ("{token_id}", token.clone()),
        ("{export}", export.clone()),
        ("{shared}", shared.clone()),
        ("{list}", list.clone()),
        ("{run}", run.clone()),
        ("{someone}", someone.clone()),
        ("{erasure}", erasure.clone()),
    ]
}

/// `text` with every placeholder of `fixture` filled in.
fn filled(text: &str, fixture: &[(&'static str, String)]) -> String {
    fixture
        .iter()
        .fold(text.to_owned(), |text, (placeholder, value)| {
            text.replace(placeholder, value)
        })
}

#[tokio::test]
async fn every_route_checks_the_role() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    let fill = |text: &str| filled(text, &fixture);
    for route in routes() {
        let path = fill(route.path);
        for caller in [
            None,
            Some(Role::Viewer),
            Some(Role::Contributor),
            Some(Role::Admin),
        ] {
            let mut request = app.request(caller, route.method.clone(), &path);
            if let Some(body) = &route.body {
                let label = caller.map_or("nobody", Role::as_str);
                request = request.json(
                    &serde_json::from_str::<serde_json::Value>(
                        &fill(&body.to_string()).replace("{role}", label),
                    )
                    .unwrap(),
                );
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let expected_refusal = match (caller, route.least) {
                (None, _) => Some(StatusCode::UNAUTHORIZED),
                (Some(role), Some(least)) if role < least => Some(StatusCode::FORBIDDEN),
                _ => None,
            };
            match expected_refusal {
                Some(refusal) => assert_eq!(
                    status, refusal,
                    "{} {} as {caller:?}",
                    route.method, route.path
                ),
                None => assert!(
                    status.is_success() || Some(status) == route.also_allowed,
                    "{} {} as {caller:?} answered {status}: {}",
                    route.method,
                    route.path,
                    response.text().await.unwrap()
                ),
            }
        }
    }
}

#[tokio::test]
async fn every_route_checks_the_tokens_scope() {
    let app = spawn_app().await;
    let fixture = fixture(&app).await;
    let mut scoped = Vec::new();
    for scope in ["read", "trigger"] {
        let (status, made) = app
            .call(
                Some(Role::Admin),
                Method::POST,
                "/api/v1/me/tokens",
                Some(json!({ "name": format!("scoped {scope}"), "scope": scope })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        scoped.push((
            segsync_domain::TokenScope::parse(scope).unwrap(),
            made["token"].as_str().unwrap().to_owned(),
        ));
    }
    for route in routes() {
        let path = filled(route.path, &fixture);
        for (scope, token) in &scoped {
            let mut request = app
                .http
                .request(route.method.clone(), app.url(&path))
                .bearer_auth(token);
            if let Some(body) = &route.body {
                request = request.json(
                    &serde_json::from_str::<serde_json::Value>(
                        &filled(&body.to_string(), &fixture).replace("{role}", "scoped"),
                    )
                    .unwrap(),
                );
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let bare = route.path.split('?').next().unwrap_or_default();
            let within = scope.allows(route.method.as_str(), &filled(bare, &fixture));
            if within {
                assert_ne!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{} {} with a {scope:?} token: {}",
                    route.method,
                    route.path,
                    response.text().await.unwrap()
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{} {} with a {scope:?} token",
                    route.method,
                    route.path
                );
            }
        }
    }
}

#[tokio::test]
async fn refusals_say_why_in_the_error_shape() {
    let app = spawn_app().await;
    let response = app
        .request(Some(Role::Viewer), Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    assert_eq!(body["message"], "your role may not list users");

    let response = app
        .request(None, Method::GET, "/api/v1/me")
        .bearer_auth("sgs_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["code"],
        "unauthenticated"
    );
}
