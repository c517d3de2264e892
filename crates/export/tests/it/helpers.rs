//! A sandbox on port 0, a connected client with a fresh list, and profile files.

use std::sync::Arc;
use std::time::Duration;

use cc_sandbox::{RunningSandbox, SandboxConfig};
use chrono::{TimeZone, Utc};
use constant_contact::api::PollPolicy;
use constant_contact::budget::ApiKeyBudget;
use constant_contact::wire::lists::NewContactList;
use constant_contact::{ApiConfig, ConstantContact, Endpoints, MemoryTokenStore, OAuthClient};
use secrecy::SecretString;
use segsync_domain::segment::{RunClock, SegmentDefinition, SegmentFormat, parse_segments};
use segsync_domain::{ContactField, FieldMapping};
use segsync_export::ExportPlan;
use url::Url;
use uuid::Uuid;

pub struct TestApp {
    pub sandbox: RunningSandbox,
    pub client: ConstantContact,
    pub list_id: Uuid,
    pub folder: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    let client_id = format!("export-{}", Uuid::new_v4());
    let config = SandboxConfig {
        auto_approve: true,
        requests_per_second: 1_000,
        activity_queue_time: Duration::from_millis(5),
        activity_processing_time: Duration::from_millis(10),
        ..SandboxConfig::default()
    }
    .with_client(&client_id, Some("secret"), &["http://127.0.0.1:1/cb"]);
    let sandbox = cc_sandbox::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let api = ApiConfig::new(&client_id)
        .with_endpoints(Endpoints::under(&Url::parse(&sandbox.base_url()).unwrap()))
        .with_client_secret(SecretString::from("secret"))
        .with_redirect_uri(Url::parse("http://127.0.0.1:1/cb").unwrap());
    let http = constant_contact::api::http_client(&api).unwrap();
    let oauth = OAuthClient::new(api.clone(), http);
    let request = oauth
        .authorization_url(&["contact_data", "offline_access"])
        .unwrap();
    let browser = authorization_code(&request.url).await;
    let tokens = oauth
        .exchange_code(&browser, &request.pkce_verifier)
        .await
        .unwrap();
    let client = ConstantContact::connect(&api, tokens, Arc::new(MemoryTokenStore::default()))
        .unwrap()
        .with_budget(Arc::new(ApiKeyBudget::new(1_000, 10_000)));
    let list = client
        .create_list(&NewContactList {
            name: "Export target".into(),
            favorite: false,
            description: None,
        })
        .await
        .unwrap();
    TestApp {
        sandbox,
        client,
        list_id: list.list_id,
        folder: tempfile::tempdir().unwrap(),
    }
}

/// Follows the authorization URL of an auto-approving sandbox and returns the code.
async fn authorization_code(url: &Url) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser.get(url.clone()).send().await.unwrap();
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(key, _)| key == "code")
        .unwrap()
        .1
        .into_owned()
}

impl TestApp {
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    pub fn members(&self) -> Vec<String> {
        self.sandbox.state().list_members(self.list_id)
    }

    pub fn imports_received(&self) -> usize {
        self.sandbox
            .state()
            .requests()
            .iter()
            .filter(|r| r.endpoint == "contacts_json_import")
            .count()
    }
}

pub fn segments(yaml: &str) -> Vec<SegmentDefinition> {
    parse_segments(yaml, SegmentFormat::Yaml, "test.yaml").unwrap()
}

pub fn clock() -> RunClock {
    RunClock::new(
        Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap(),
        chrono_tz::UTC,
    )
}

pub fn fast_polling() -> PollPolicy {
    PollPolicy {
        first_wait: Duration::from_millis(20),
        growth: 1.5,
        max_wait: Duration::from_millis(200),
        give_up_after: Duration::from_secs(60),
    }
}

pub fn names_mapping() -> FieldMapping {
    FieldMapping::email_only("email")
        .with(ContactField::FirstName, "first_name")
        .with(ContactField::LastName, "last_name")
}

pub fn plan(app: &TestApp, selected: &[&str], catalogue: Vec<SegmentDefinition>) -> ExportPlan {
    let chosen = selected
        .iter()
        .map(|name| catalogue.iter().find(|s| &s.name == name).unwrap().clone())
        .collect();
    ExportPlan::new(chosen, names_mapping(), app.list_id, clock())
        .with_catalogue(catalogue)
        .with_poll_policy(fast_polling())
}
