//! How the sandbox behaves: lifetimes, limits and timings, with Constant Contact's values as
//! defaults and everything shorter or smaller for tests.

use std::time::Duration;

/// An application registered with the sandbox, as in Constant Contact's developer portal.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    /// The API key.
    pub client_id: String,
    /// `None` registers a public client, which must use PKCE.
    pub client_secret: Option<String>,
    /// Redirect URIs registered for the client, as in the developer portal: an authorisation
    /// request with any other is refused (none registered refuses every one; the device flow
    /// needs none).
    pub redirect_uris: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub clients: Vec<ClientRegistration>,
    /// Names of lists that exist from the start.
    pub seed_lists: Vec<String>,
    /// Labels of custom fields (of type `string`) that exist from the start.
    pub seed_custom_fields: Vec<String>,
    /// Lifetime of access tokens; Constant Contact's are valid 24 hours.
    pub access_token_lifetime: Duration,
    /// Authorization codes are single use and valid this long (5 minutes).
    pub authorization_code_lifetime: Duration,
    pub device_code_lifetime: Duration,
    /// Minimum seconds between device-flow polls; faster polls answer `slow_down`.
    pub device_poll_interval: Duration,
    /// Approve authorisation requests without showing the consent page.
    pub auto_approve: bool,
    /// Per client id; more answer 429 `throttled`.
    pub requests_per_second: u32,
    /// Per client id and UTC day; more answer 429 `quota_exceeded`.
    pub daily_quota: u32,
    /// Activities waiting or running at once; more answer 429.
    pub max_queued_activities: usize,
    /// Time an activity stays `initialized` before it starts processing.
    pub activity_queue_time: Duration,
    /// Time an activity stays `processing` before its effect is applied.
    pub activity_processing_time: Duration,
    pub max_lists: usize,
    /// Bytes of an import body that are read; contacts beyond them are silently dropped.
    pub max_import_bytes: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            clients: Vec::new(),
            seed_lists: Vec::new(),
            seed_custom_fields: Vec::new(),
            access_token_lifetime: Duration::from_secs(86_400),
            authorization_code_lifetime: Duration::from_secs(300),
            device_code_lifetime: Duration::from_secs(600),
            device_poll_interval: Duration::from_secs(5),
            auto_approve: false,
            requests_per_second: 4,
            daily_quota: 10_000,
            max_queued_activities: 1_000,
            activity_queue_time: Duration::from_millis(200),
            activity_processing_time: Duration::from_millis(300),
            max_lists: 1_000,
            max_import_bytes: 4_000_000,
        }
    }
}

impl SandboxConfig {
    pub fn with_client(
        mut self,
        client_id: &str,
        client_secret: Option<&str>,
        redirect_uris: &[&str],
    ) -> Self {
        self.clients.push(ClientRegistration {
            client_id: client_id.to_owned(),
            client_secret: client_secret.map(str::to_owned),
            redirect_uris: redirect_uris.iter().map(|uri| (*uri).to_owned()).collect(),
        });
        self
    }

    /// Custom fields the account has from the start, by label; an import may set them as
    /// `cf:<label with blanks as underscores>`.
    pub fn with_custom_fields(mut self, labels: &[&str]) -> Self {
        self.seed_custom_fields
            .extend(labels.iter().map(|label| (*label).to_owned()));
        self
    }

    pub fn with_lists(mut self, names: &[&str]) -> Self {
        self.seed_lists
            .extend(names.iter().map(|name| (*name).to_owned()));
        self
    }
}
