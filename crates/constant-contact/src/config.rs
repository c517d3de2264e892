//! Where Constant Contact lives and how hard we may lean on it.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// Constant Contact's production API, with the version in the path.
pub const DEFAULT_API_BASE_URL: &str = "https://api.cc.email/v3";
/// Constant Contact's authorisation server (Okta-based, `/oauth2/default/v1`).
pub const DEFAULT_AUTH_BASE_URL: &str = "https://authz.constantcontact.com/oauth2/default/v1";
/// Requests per second allowed per API key.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 4;
/// Requests per UTC day allowed per API key.
pub const DEFAULT_DAILY_QUOTA: u32 = 10_000;
/// How long one HTTP exchange may take before it counts as a timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Scopes a segment export needs: contact data, and a refresh token.
pub const DEFAULT_SCOPES: &[&str] = &["contact_data", "offline_access"];

/// The two base URLs of Constant Contact, both replaceable (the sandbox, a proxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Base of the REST API, ending in `/v3`.
    pub api_base_url: Url,
    /// Base of the authorisation server, ending in `/v1`; `authorize`, `token` and
    /// `device/authorize` are appended to it.
    pub auth_base_url: Url,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            api_base_url: Url::parse(DEFAULT_API_BASE_URL).expect("constant URL parses"),
            auth_base_url: Url::parse(DEFAULT_AUTH_BASE_URL).expect("constant URL parses"),
        }
    }
}

impl Endpoints {
    /// Both bases under one root, as the sandbox serves them: `{root}/v3` and
    /// `{root}/oauth2/default/v1`.
    pub fn under(root: &Url) -> Self {
        let root = root.as_str().trim_end_matches('/');
        Self {
            api_base_url: Url::parse(&format!("{root}/v3")).expect("root URL plus a path parses"),
            auth_base_url: Url::parse(&format!("{root}/oauth2/default/v1"))
                .expect("root URL plus a path parses"),
        }
    }

    pub(crate) fn api(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.api_base_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    pub(crate) fn auth(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.auth_base_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// Resolves a `_links.next.href` path (`/v3/contacts?cursor=…`) against the API's origin.
    pub(crate) fn resolve_link(&self, href: &str) -> Result<Url, url::ParseError> {
        self.api_base_url.join(href)
    }
}

/// One application registered with Constant Contact: its API key and secret.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub endpoints: Endpoints,
    /// The portal's "API Key", sent as `client_id`; rate limits and quotas are counted per key.
    pub client_id: String,
    /// Absent for public (PKCE-only) applications.
    pub client_secret: Option<SecretString>,
    /// Must match the redirect URI registered for the application exactly.
    pub redirect_uri: Option<Url>,
    pub requests_per_second: u32,
    pub daily_quota: u32,
    pub request_timeout: Duration,
}

impl ApiConfig {
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            endpoints: Endpoints::default(),
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: None,
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            daily_quota: DEFAULT_DAILY_QUOTA,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    pub fn with_endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    pub fn with_client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    pub fn with_redirect_uri(mut self, redirect_uri: Url) -> Self {
        self.redirect_uri = Some(redirect_uri);
        self
    }

    pub fn with_requests_per_second(mut self, requests_per_second: u32) -> Self {
        self.requests_per_second = requests_per_second;
        self
    }

    pub fn with_daily_quota(mut self, daily_quota: u32) -> Self {
        self.daily_quota = daily_quota;
        self
    }

    pub fn with_request_timeout(mut self, request_timeout: Duration) -> Self {
        self.request_timeout = request_timeout;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_the_api_origin() {
        let endpoints = Endpoints::under(&Url::parse("http://127.0.0.1:9000").unwrap());
        assert_eq!(
            endpoints.api("/contact_lists"),
            "http://127.0.0.1:9000/v3/contact_lists"
        );
        assert_eq!(
            endpoints.auth("token"),
            "http://127.0.0.1:9000/oauth2/default/v1/token"
        );
        let next = endpoints.resolve_link("/v3/contacts?cursor=abc").unwrap();
        assert_eq!(
            next.as_str(),
            "http://127.0.0.1:9000/v3/contacts?cursor=abc"
        );
    }
}
