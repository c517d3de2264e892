//! Alerts: webhooks hear of failed runs and of connections that need re-authentication,
//! signed, each alert tried again until delivered, and only the events they asked for.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use segsync_server::config::{AlertEvent, WebhookConfig};
use segsync_store::Role;
use serde_json::Value;
use sha2::Sha256;

use crate::helpers::{another_node, spawn_app_on_postgres, spawn_app_with};
use crate::runs::{an_export, ended, run};

const SECRET: &str = "whsec-for-tests";

/// What a receiver was sent: its headers of interest and its body.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) delivery_id: String,
    pub(crate) event: String,
    pub(crate) signature: Option<String>,
    pub(crate) body: String,
}

/// A webhook receiver on a real port: records each post and answers, after `pause`, with the
/// next status queued, 200 once none is.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    received: Arc<Mutex<Vec<Delivery>>>,
    answers: Arc<Mutex<VecDeque<StatusCode>>>,
    pause: Duration,
}

impl Receiver {
    pub(crate) async fn start(answers: &[StatusCode]) -> (Self, url::Url) {
        Self::start_answering_after(answers, Duration::ZERO).await
    }

    async fn start_answering_after(answers: &[StatusCode], pause: Duration) -> (Self, url::Url) {
        let receiver = Self {
            pause,
            ..Self::default()
        };
        receiver.answers.lock().unwrap().extend(answers);
        let app = axum::Router::new()
            .route("/hook", post(record))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url.parse().unwrap())
    }

    fn received(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `count` posts arrived.
    pub(crate) async fn until_received(&self, count: usize) -> Vec<Delivery> {
        for _ in 0..300 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{count} posts expected; got {:#?}", self.received());
    }
}

async fn record(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    receiver.received.lock().unwrap().push(Delivery {
        delivery_id: header("x-segsync-delivery").unwrap(),
        event: header("x-segsync-event").unwrap(),
        signature: header("x-segsync-signature"),
        body,
    });
    tokio::time::sleep(receiver.pause).await;
    receiver
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(StatusCode::OK)
}

/// Checks `t=…,v1=…` against the body with the shared secret.
fn signed_by_the_secret(signature: &str, body: &str) -> bool {
    let (timestamp, hex) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .expect("the signature has t= and v1=");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    hex == expected && (0..60).contains(&age)
}

#[tokio::test]
async fn webhooks_hear_of_a_failed_run_and_a_connection_needing_reauthentication() {
    let (every_event, every_url) = Receiver::start(&[StatusCode::INTERNAL_SERVER_ERROR]).await;
    let (connections_only, connections_url) = Receiver::start(&[]).await;
    let app = spawn_app_with(|config| {
        config.alerts.check_seconds = 1;
        config.alerts.webhooks = vec![
            WebhookConfig {
                url: every_url,
                secret: Some(SecretString::from(SECRET)),
                events: Vec::new(),
            },
            WebhookConfig {
                url: connections_url,
                secret: None,
                events: vec![AlertEvent::ConnectionNeedsReauthentication],
            },
        ];
    })
    .await;
    let (export, _) = an_export(&app).await;
    app.sandbox.state().revoke_tokens();
    app.sandbox.state().expire_access_tokens();
    let (_, queued) = run(&app, Role::Contributor, &export).await;
    let failed = ended(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed", "{failed}");

    let received = every_event.until_received(3).await;
    let (refused, retried, connection) = (&received[0], &received[1], &received[2]);
    assert_eq!(refused.event, "run.failed");
    assert_eq!(
        retried.delivery_id, refused.delivery_id,
        "the alert refused with 500 is tried again, as the same alert"
    );
    assert_eq!(retried.body, refused.body);
    for delivery in &received {
        assert!(
            signed_by_the_secret(delivery.signature.as_deref().unwrap(), &delivery.body),
            "{delivery:?}"
        );
    }
    let body: Value = serde_json::from_str(&retried.body).unwrap();
    assert_eq!(body["id"], retried.delivery_id.as_str());
    assert_eq!(body["run"]["id"], failed["id"]);
    assert_eq!(body["run"]["status"], "failed");
    assert!(
        body["run"]["reason"]
            .as_str()
            .unwrap()
            .contains("refused the refresh token"),
        "{body}"
    );
    assert_eq!(body["export"]["id"], export.as_str());
    assert!(body["export"]["name"].is_string(), "{body}");
    assert!(
        body["run"]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/runs/{}", failed["id"].as_str().unwrap())),
        "{body}"
    );

    assert_eq!(connection.event, "connection.needs_reauthentication");
    let body: Value = serde_json::from_str(&connection.body).unwrap();
    assert!(
        body["connection"]["reason"]
            .as_str()
            .unwrap()
            .contains("refused the refresh token"),
        "{body}"
    );

    let only = connections_only.until_received(1).await;
    assert_eq!(only[0].event, "connection.needs_reauthentication");
    assert_eq!(only[0].delivery_id, connection.delivery_id);
    assert_eq!(
        only[0].signature, None,
        "a webhook without a secret is not signed"
    );
    assert!(
        connections_only
            .received()
            .iter()
            .all(|delivery| delivery.event == "connection.needs_reauthentication"),
        "a webhook hears only the events it asked for"
    );

    // Each webhook's last delivery is noted, for the System page.
    let mut last = Value::Null;
    for _ in 0..50 {
        let (_, webhooks) = app
            .call(
                Some(Role::Admin),
                reqwest::Method::GET,
                "/api/v1/alerts",
                None,
            )
            .await;
        last = webhooks[1]["last_delivery"].clone();
        if !last.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["event"], "connection.needs_reauthentication", "{last}");
    assert_eq!(last["delivered"], true, "{last}");
}

#[tokio::test]
async fn of_two_servers_on_one_store_only_one_sends_each_alert() {
    // A slow receiver: the second server looks while the first still waits for its answer.
    let (receiver, url) = Receiver::start_answering_after(&[], Duration::from_millis(2_500)).await;
    // Several servers share a store on PostgreSQL: the embedded SQLite serves one.
    let app = spawn_app_on_postgres(
        |_| {},
        |config| {
            config.alerts.check_seconds = 1;
            config.alerts.webhooks = vec![WebhookConfig {
                url,
                secret: None,
                events: vec![AlertEvent::RunFailed],
            }];
        },
    )
    .await;
    let (second, _) = another_node(&app).await;
    let (export, _) = an_export(&app).await;
    app.sandbox.state().revoke_tokens();
    app.sandbox.state().expire_access_tokens();
    let (_, queued) = run(&app, Role::Contributor, &export).await;
    ended(&app, queued["id"].as_str().unwrap()).await;

    receiver.until_received(1).await;
    // Both servers look for alerts every second; give them several looks each.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "one sender at a time: {received:#?}");
    second.stop().await;
}

#[tokio::test]
async fn an_admin_sees_the_webhooks_and_sends_each_a_test_post() {
    let (receiver, url) = Receiver::start(&[]).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/gone", listener.local_addr().unwrap())
    };
    let app = spawn_app_with(|config| {
        config.alerts.webhooks = vec![
            WebhookConfig {
                url,
                secret: Some(SecretString::from(SECRET)),
                events: vec![AlertEvent::RunFailed],
            },
            WebhookConfig {
                url: closed.parse().unwrap(),
                secret: None,
                events: Vec::new(),
            },
        ];
    })
    .await;

    let (status, webhooks) = app
        .call(
            Some(Role::Admin),
            reqwest::Method::GET,
            "/api/v1/alerts",
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{webhooks}");
    assert_eq!(webhooks[0]["host"], "127.0.0.1");
    assert_eq!(webhooks[0]["events"], serde_json::json!(["run.failed"]));
    assert_eq!(webhooks[0]["signed"], true);
    assert_eq!(webhooks[1]["signed"], false);
    assert!(
        !webhooks.to_string().contains("/gone"),
        "a webhook's path may hold a token and is not shown: {webhooks}"
    );

    let (status, posts) = app
        .call(
            Some(Role::Admin),
            reqwest::Method::POST,
            "/api/v1/alerts/test",
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{posts}");
    assert_eq!(posts[0]["delivered"], true, "{posts}");
    assert_eq!(posts[1]["delivered"], false, "{posts}");
    assert!(
        posts[1]["problem"]
            .as_str()
            .unwrap()
            .starts_with("no answer"),
        "{posts}"
    );
    assert!(!posts.to_string().contains("/gone"), "{posts}");
    let ping = &receiver.received()[0];
    assert_eq!(ping.event, "ping");
    assert!(signed_by_the_secret(
        ping.signature.as_deref().unwrap(),
        &ping.body
    ));
}
