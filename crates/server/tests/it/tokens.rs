//! One owner of each connection's tokens: runs, list look-ups and other calls on one connection
//! share one refresh, in one process and across nodes on one store, and Constant Contact sees
//! each rotating refresh token spent once.

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use segsync_store::{Health, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::exports::{form, set_up};
use crate::helpers::{TestApp, spawn_app_configured, spawn_app_on_postgres};
use crate::processes::{serve_on, until_up};
use crate::runs::ended;

/// Two exports of the "Newsletter" list on one connection, runnable by the contributor.
async fn two_exports_on_one_connection(app: &TestApp) -> (Uuid, [String; 2]) {
    let (connection, list, segment) = set_up(app).await;
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection}/export-user"),
            None,
        )
        .await;
    assert!(status.is_success());
    let mut exports = Vec::new();
    for name in ["Gold, first", "Gold, second"] {
        let mut body = form(&connection, &list, &segment);
        body["name"] = json!(name);
        let (status, export) = app
            .call(
                Some(Role::Contributor),
                Method::POST,
                "/api/v1/exports",
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{export}");
        exports.push(export["id"].as_str().unwrap().to_owned());
    }
    (
        connection.parse().unwrap(),
        exports.try_into().expect("two exports"),
    )
}

/// Asks for the connection's lists at `base`, `times` at once; every answer must be 200.
async fn look_up_lists(app: &TestApp, base: &str, connection: Uuid, times: usize) {
    let path = format!("/api/v1/connections/{connection}/lists");
    let answers = join_all((0..times).map(|_| async {
        let response = app
            .request_to(base, Some(Role::Contributor), Method::GET, &path)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }))
    .await;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn two_runs_and_list_look_ups_on_one_connection_spend_each_refresh_token_once() {
    // Access tokens live 4 s (refreshed after 3 s) and every import takes 4 s to process: the
    // token expires while both runs wait for their imports.
    let app = spawn_app_configured(
        |sandbox| {
            sandbox.access_token_lifetime = Duration::from_secs(4);
            sandbox.activity_processing_time = Duration::from_secs(4);
        },
        // Every look-up asks Constant Contact.
        |config| config.constant_contact.look_ups_kept_seconds = 0,
    )
    .await;
    let (connection, exports) = two_exports_on_one_connection(&app).await;
    let version_before = app
        .state
        .store
        .connection(connection)
        .await
        .unwrap()
        .tokens_version;
    let refreshes_before = app.sandbox.state().refreshes();
    app.sandbox.state().expire_access_tokens();

    let run = |export: &String| {
        let path = format!("/api/v1/exports/{export}/run");
        let app = &app;
        async move {
            app.call(Some(Role::Contributor), Method::POST, &path, None)
                .await
        }
    };
    let (first, second, ()) = tokio::join!(
        run(&exports[0]),
        run(&exports[1]),
        look_up_lists(&app, &app.base, connection, 6)
    );
    let mut runs: Vec<Value> = Vec::new();
    for (status, queued) in [first, second] {
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        runs.push(queued);
    }
    let (first, second, ()) = tokio::join!(
        ended(&app, runs[0]["id"].as_str().unwrap()),
        ended(&app, runs[1]["id"].as_str().unwrap()),
        async {
            // More look-ups while the runs wait for their imports and the token runs out.
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(1_500)).await;
                look_up_lists(&app, &app.base, connection, 3).await;
            }
        }
    );
    for ended in [&first, &second] {
        assert_eq!(ended["status"], "succeeded", "{ended}");
    }

    let connection = app.state.store.connection(connection).await.unwrap();
    assert_eq!(connection.health, Health::Healthy, "{connection:?}");
    let refreshes = app.sandbox.state().refreshes();
    assert_eq!(
        refreshes.refused, refreshes_before.refused,
        "no refresh token was spent twice"
    );
    let rotations = connection.tokens_version - version_before;
    assert!(
        rotations >= 2,
        "the expired token and the one that ran out during the runs were refreshed: {rotations}"
    );
    assert_eq!(
        (refreshes.accepted - refreshes_before.accepted) as i64,
        rotations,
        "Constant Contact saw one refresh per rotation"
    );
}

#[tokio::test]
async fn two_server_processes_on_one_postgres_refresh_once_per_rotation() {
    // Every look-up asks Constant Contact.
    let app = spawn_app_on_postgres(
        |_| {},
        |config| config.constant_contact.look_ups_kept_seconds = 0,
    )
    .await;
    // The other node is a `segsync serve` process of its own on the same database.
    let (_second, second_base) = serve_on(
        app.config(),
        &[("SEGSYNC_CONSTANT_CONTACT__LOOK_UPS_KEPT_SECONDS", "0")],
    );
    until_up(&second_base).await;
    let (connection, _) = two_exports_on_one_connection(&app).await;
    let version_before = app
        .state
        .store
        .connection(connection)
        .await
        .unwrap()
        .tokens_version;
    let refreshes_before = app.sandbox.state().refreshes();

    for round in 1..=3u64 {
        // Every node's access token is refused at once: each asks for a refresh at the same
        // moment, and one refresh must serve them all.
        app.sandbox.state().expire_access_tokens();
        tokio::join!(
            look_up_lists(&app, &app.base, connection, 4),
            look_up_lists(&app, &second_base, connection, 4)
        );
        let refreshes = app.sandbox.state().refreshes();
        assert_eq!(
            (
                refreshes.accepted - refreshes_before.accepted,
                refreshes.refused - refreshes_before.refused
            ),
            (round, 0),
            "round {round}: one refresh, none refused"
        );
        let connection = app.state.store.connection(connection).await.unwrap();
        assert_eq!(connection.health, Health::Healthy);
        assert_eq!(connection.tokens_version, version_before + round as i64);
    }
}
