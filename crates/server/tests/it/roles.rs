//! Every route against every role, and against no credentials at all.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::json;

use crate::helpers::spawn_app;

/// A route, a body that is valid for it, and the least role it allows (`None`: anyone signed in).
struct Route {
    method: Method,
    path: &'static str,
    body: Option<serde_json::Value>,
    least: Option<Role>,
}

/// A rule every profile of the test server matches.
fn everyone() -> serde_json::Value {
    json!({ "attribute": "email", "op": "is_not_null" })
}

fn routes() -> Vec<Route> {
    let route = |method: Method, path, body, least| Route {
        method,
        path,
        body,
        least,
    };
    vec![
        route(Method::GET, "/api/v1/me", None, None),
        route(Method::GET, "/api/v1/me/tokens", None, None),
        route(
            Method::POST,
            "/api/v1/me/tokens",
            Some(json!({ "name": "ci" })),
            None,
        ),
        route(Method::GET, "/api/v1/users", None, Some(Role::Admin)),
        route(
            Method::POST,
            "/api/v1/users",
            Some(
                json!({ "username": "new-{role}", "role": "viewer", "password": "another long password" }),
            ),
            Some(Role::Admin),
        ),
        route(Method::GET, "/api/v1/audit", None, Some(Role::Admin)),
        route(Method::GET, "/api/v1/connections", None, None),
        route(Method::GET, "/api/v1/connections/consent-text", None, None),
        route(
            Method::POST,
            "/api/v1/connections",
            Some(json!({ "name": "made by {role}", "consent": true })),
            Some(Role::Admin),
        ),
        route(
            Method::PATCH,
            "/api/v1/connections/{connection}",
            Some(json!({ "usable_by": "admins_and_contributors" })),
            Some(Role::Admin),
        ),
        // Shared by the change above, so everyone signed in may read its name and type.
        route(Method::GET, "/api/v1/connections/{connection}", None, None),
        route(
            Method::POST,
            "/api/v1/connections/{connection}/authorize",
            None,
            Some(Role::Admin),
        ),
        route(
            Method::POST,
            "/api/v1/connections/{connection}/export-user",
            None,
            Some(Role::Admin),
        ),
        route(
            Method::DELETE,
            "/api/v1/connections/{connection}",
            None,
            Some(Role::Admin),
        ),
    ]
}

#[tokio::test]
async fn every_route_checks_the_role() {
    let app = spawn_app().await;
    let connection = app
        .request(Some(Role::Admin), Method::POST, "/api/v1/connections")
        .json(&json!({ "name": "matrix", "consent": true }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let segment = app
        .request(Some(Role::Admin), Method::POST, "/api/v1/segments")
        .json(&json!({ "name": "matrix", "rule": everyone() }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for route in routes() {
        let path = route
            .path
            .replace("{connection}", &connection)
            .replace("{segment}", &segment);
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
                        &body.to_string().replace("{role}", label),
                    )
                    .unwrap(),
                );
            }
            let status = request.send().await.unwrap().status();
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
                    status.is_success(),
                    "{} {} as {caller:?} answered {status}",
                    route.method,
                    route.path
                ),
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
