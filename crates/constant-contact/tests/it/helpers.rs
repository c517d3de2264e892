//! A sandbox on port 0 and a client authenticated against it, for every test.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cc_sandbox::{RunningSandbox, SandboxConfig};
use constant_contact::api::PollPolicy;
use constant_contact::budget::ApiKeyBudget;
use constant_contact::oauth::AuthorizationRequest;
use constant_contact::{
    ApiConfig, ConstantContact, Endpoints, MemoryTokenStore, OAuthClient, TokenSet,
};
use secrecy::SecretString;
use url::Url;

pub const CLIENT_SECRET: &str = "test-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:1/callback";
pub const SCOPES: &[&str] = &["contact_data", "offline_access"];

/// Each test has its own API key, so budgets never leak between tests.
pub fn unique_client_id() -> String {
    format!("client-{}", uuid::Uuid::new_v4())
}

/// Sandbox settings for fast tests: quick activities, generous limits.
pub fn fast_sandbox(client_id: &str) -> SandboxConfig {
    SandboxConfig {
        requests_per_second: 1_000,
        activity_queue_time: Duration::from_millis(5),
        activity_processing_time: Duration::from_millis(10),
        device_poll_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    }
    .with_client(client_id, Some(CLIENT_SECRET), &[REDIRECT_URI])
    .with_lists(&["Newsletter", "VIP customers"])
}

pub fn fast_polling() -> PollPolicy {
    PollPolicy {
        first_wait: Duration::from_millis(10),
        growth: 1.5,
        max_wait: Duration::from_millis(100),
        give_up_after: Duration::from_secs(30),
    }
}

pub struct TestApp {
    pub sandbox: RunningSandbox,
    pub config: ApiConfig,
    pub store: Arc<MemoryTokenStore>,
    pub client: ConstantContact,
}

impl TestApp {
    pub fn list_id(&self, name: &str) -> uuid::Uuid {
        self.sandbox
            .state()
            .lists()
            .into_iter()
            .find(|list| list.name == name)
            .expect("seeded list")
            .list_id
    }

    /// Requests the sandbox received for `endpoint`.
    pub fn requests_to(&self, endpoint: &str) -> Vec<cc_sandbox::LoggedRequest> {
        self.sandbox
            .state()
            .requests()
            .into_iter()
            .filter(|r| r.endpoint == endpoint)
            .collect()
    }
}

pub async fn spawn_sandbox(config: SandboxConfig) -> RunningSandbox {
    cc_sandbox::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the sandbox starts")
}

pub fn api_config(sandbox: &RunningSandbox, client_id: &str) -> ApiConfig {
    let root = Url::parse(&sandbox.base_url()).unwrap();
    ApiConfig::new(client_id)
        .with_endpoints(Endpoints::under(&root))
        .with_client_secret(SecretString::from(CLIENT_SECRET))
        .with_redirect_uri(Url::parse(REDIRECT_URI).unwrap())
        .with_request_timeout(Duration::from_secs(5))
}

/// A test app whose sandbox and client both allow `requests_per_second`.
pub async fn spawn_app_with(
    sandbox_config: SandboxConfig,
    client_id: &str,
    requests_per_second: u32,
) -> TestApp {
    let sandbox = spawn_sandbox(SandboxConfig {
        auto_approve: true,
        ..sandbox_config
    })
    .await;
    let config = api_config(&sandbox, client_id).with_requests_per_second(requests_per_second);
    let tokens = authorize(&config).await;
    let store = Arc::new(MemoryTokenStore::default());
    let budget = Arc::new(ApiKeyBudget::new(
        config.requests_per_second,
        config.daily_quota,
    ));
    let client = ConstantContact::connect(&config, tokens, store.clone())
        .unwrap()
        .with_budget(budget);
    TestApp {
        sandbox,
        config,
        store,
        client,
    }
}

pub async fn spawn_app() -> TestApp {
    let client_id = unique_client_id();
    spawn_app_with(fast_sandbox(&client_id), &client_id, 1_000).await
}

pub fn oauth_client(config: &ApiConfig) -> OAuthClient {
    OAuthClient::new(
        config.clone(),
        constant_contact::api::http_client(config).unwrap(),
    )
}

/// Follows the authorization URL with an auto-approving sandbox and exchanges the code.
pub async fn authorize(config: &ApiConfig) -> TokenSet {
    let oauth = oauth_client(config);
    let request = oauth.authorization_url(SCOPES).unwrap();
    let redirect = follow_authorization(&request).await;
    assert!(request.state_matches(&redirect["state"]));
    oauth
        .exchange_code(&redirect["code"], &request.pkce_verifier)
        .await
        .unwrap()
}

/// The query of the redirect an auto-approving sandbox answers the authorization URL with.
pub async fn follow_authorization(request: &AuthorizationRequest) -> HashMap<String, String> {
    let response = no_redirects()
        .get(request.url.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    redirect_query(&response)
}

pub fn no_redirects() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn redirect_query(response: &reqwest::Response) -> HashMap<String, String> {
    let location = response.headers()["location"].to_str().unwrap();
    let url = Url::parse(location).unwrap();
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    url.query_pairs().into_owned().collect()
}
