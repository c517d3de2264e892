//! A sandbox on port 0, a raw HTTP client, and a token obtained the way a client would.

use std::time::Duration;

use base64::Engine;
use cc_sandbox::{RunningSandbox, SandboxConfig};
use serde_json::Value;

pub const CLIENT_ID: &str = "raw-client";
pub const CLIENT_SECRET: &str = "raw-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:1/done";

pub fn config() -> SandboxConfig {
    SandboxConfig {
        auto_approve: true,
        requests_per_second: 1_000,
        activity_queue_time: Duration::from_millis(5),
        activity_processing_time: Duration::from_millis(5),
        ..SandboxConfig::default()
    }
    .with_client(CLIENT_ID, Some(CLIENT_SECRET), &[REDIRECT_URI])
    .with_lists(&["Newsletter"])
}

pub struct Raw {
    pub sandbox: RunningSandbox,
    pub http: reqwest::Client,
    pub access_token: String,
    pub refresh_token: String,
}

impl Raw {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    pub fn list_id(&self) -> String {
        self.sandbox.state().lists()[0].list_id.to_string()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.access_token)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_bytes(path, "application/json", serde_json::to_vec(body).unwrap())
            .await
    }

    pub async fn post_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.access_token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// Polls an activity until it leaves `initialized` and `processing`.
    pub async fn wait_for(&self, activity_id: &str) -> Value {
        for _ in 0..500 {
            let (status, activity) = self.get(&format!("/v3/activities/{activity_id}")).await;
            assert_eq!(status, 200, "{activity}");
            if !matches!(
                activity["state"].as_str(),
                Some("initialized" | "processing")
            ) {
                return activity;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("activity {activity_id} never ended");
    }
}

pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// Authorises with a plain (non-PKCE) confidential code grant, as a server app may.
pub async fn spawn(config: SandboxConfig, scope: &str) -> Raw {
    let sandbox = cc_sandbox::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let http = http();
    let (access_token, refresh_token) = grant(&sandbox, &http, scope).await;
    Raw {
        sandbox,
        http,
        access_token,
        refresh_token,
    }
}

pub async fn authorization_code(
    sandbox: &RunningSandbox,
    http: &reqwest::Client,
    scope: &str,
    challenge: Option<&str>,
) -> String {
    let mut query = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "xyz"),
    ];
    if let Some(challenge) = challenge {
        query.push(("code_challenge", challenge));
        query.push(("code_challenge_method", "S256"));
    }
    let response = http
        .get(format!(
            "{}/oauth2/default/v1/authorize",
            sandbox.base_url()
        ))
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let pairs: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(pairs["state"], "xyz");
    pairs["code"].clone()
}

async fn grant(sandbox: &RunningSandbox, http: &reqwest::Client, scope: &str) -> (String, String) {
    let code = authorization_code(sandbox, http, scope, None).await;
    let response = http
        .post(format!("{}/oauth2/default/v1/token", sandbox.base_url()))
        .header("authorization", basic(CLIENT_ID, CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}
