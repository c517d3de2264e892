//! The client of one Constant Contact connection: every endpoint goes through `ConstantContact::send`,
//! which waits for the API key's budget, attaches the access token, and lets the retry loop
//! decide what each answer means.

mod activities;
mod activity_times;
mod contact_exports;
mod contacts;
mod custom_fields;
mod imports;
mod lists;
mod memberships;
mod opt_outs;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::{Method, header};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

pub use activities::PollPolicy;
pub use activity_times::{ActivityKind, ActivityTimes};
pub use contact_exports::{ContactExport, MAX_EXPORT_LISTS};
pub use contacts::{ContactQuery, MAX_CONTACT_PAGE_SIZE, MAX_LIST_FILTER, Page};
pub use memberships::{MAX_CONTACT_IDS_PER_REMOVAL, MAX_LIST_IDS_PER_REMOVAL};
pub use opt_outs::{OptOutPage, OptedOut};

use crate::budget::ApiKeyBudget;
use crate::classify::{
    Attempt, RawResponse, TransportFailure, TransportFailureKind, parse_retry_after,
};
use crate::config::{ApiConfig, Endpoints};
use crate::error::{Error, Result};
use crate::oauth::OAuthClient;
use crate::retry::{Exchange, RetryPolicy, send_with_retries};
use crate::tokens::{TokenManager, TokenSet, TokenStore};

/// Builds the HTTP client every part of this crate uses: rustls, and the request timeout.
pub fn http_client(config: &ApiConfig) -> Result<reqwest::Client> {
    // reqwest is built without a default TLS provider; ring is ours. Installing it twice is
    // harmless, so the result is ignored.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(config.request_timeout)
        .user_agent(concat!("segsync/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| Error::Transport(error.to_string()))
}

/// One authenticated connection to Constant Contact.
#[derive(Debug)]
pub struct ConstantContact {
    http: reqwest::Client,
    endpoints: Endpoints,
    tokens: Arc<TokenManager>,
    budget: Arc<ApiKeyBudget>,
    activity_times: Arc<ActivityTimes>,
    retry_policy: RetryPolicy,
    requests_sent: AtomicU64,
}

impl ConstantContact {
    /// The one client of a command that talks to one connection: its own HTTP client, token
    /// manager (tokens persisted through `store`) and budget for the API key. Where several
    /// clients use one key or one connection at once, build them with
    /// [`ConstantContact::with_tokens`] from what the application's state owns instead.
    pub fn connect(
        config: &ApiConfig,
        tokens: TokenSet,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self> {
        let http = http_client(config)?;
        let oauth = OAuthClient::new(config.clone(), http.clone());
        let tokens = Arc::new(TokenManager::new(oauth, store, tokens));
        let budget = Arc::new(ApiKeyBudget::new(
            config.requests_per_second,
            config.daily_quota,
        ));
        Ok(Self::with_tokens(config, http, tokens, budget))
    }

    /// A client on `http` whose access tokens come from `tokens`, a manager other clients of the
    /// same connection share (one refresh serves them all), drawing on `budget`, the API key's
    /// one budget in this process.
    pub fn with_tokens(
        config: &ApiConfig,
        http: reqwest::Client,
        tokens: Arc<TokenManager>,
        budget: Arc<ApiKeyBudget>,
    ) -> Self {
        Self {
            http,
            endpoints: config.endpoints.clone(),
            tokens,
            budget,
            activity_times: Arc::default(),
            retry_policy: RetryPolicy::default(),
            requests_sent: AtomicU64::new(0),
        }
    }

    /// Learns how long activities take from `activity_times`, which other clients of the same
    /// account share, instead of on its own.
    pub fn with_activity_times(mut self, activity_times: Arc<ActivityTimes>) -> Self {
        self.activity_times = activity_times;
        self
    }

    /// Uses `budget` instead of the one it was built with.
    pub fn with_budget(mut self, budget: Arc<ApiKeyBudget>) -> Self {
        self.budget = budget;
        self
    }

    pub fn tokens(&self) -> &Arc<TokenManager> {
        &self.tokens
    }

    pub fn budget(&self) -> &Arc<ApiKeyBudget> {
        &self.budget
    }

    /// HTTP requests this client has sent, retries and refreshed attempts included.
    pub fn requests_sent(&self) -> u64 {
        self.requests_sent.load(Ordering::Relaxed)
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let request = ApiRequest::new(Method::GET, self.endpoints.api(path)).with_query(query);
        self.send_json(&request).await
    }

    async fn send_json<T: DeserializeOwned>(&self, request: &ApiRequest) -> Result<T> {
        let response = self.send(request).await?;
        serde_json::from_slice(&response.body).map_err(|error| Error::UnexpectedResponse {
            endpoint: request.describe(),
            detail: error.to_string(),
        })
    }

    async fn send(&self, request: &ApiRequest) -> Result<RawResponse> {
        let mut exchange = ApiExchange {
            client: self,
            request,
            token: None,
        };
        send_with_retries(&self.retry_policy, &mut exchange).await
    }
}

/// A request as data, so that it can be sent again.
#[derive(Debug, Clone)]
struct ApiRequest {
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    json_body: Option<Bytes>,
    /// The media type asked for: JSON, but for the CSV of a contact export.
    accept: &'static str,
}

impl ApiRequest {
    fn new(method: Method, url: String) -> Self {
        Self {
            method,
            url,
            query: Vec::new(),
            json_body: None,
            accept: "application/json",
        }
    }

    fn accepting(mut self, media_type: &'static str) -> Self {
        self.accept = media_type;
        self
    }

    fn with_query(mut self, query: &[(&str, String)]) -> Self {
        self.query.extend(
            query
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone())),
        );
        self
    }

    fn with_json_body(mut self, body: Bytes) -> Self {
        self.json_body = Some(body);
        self
    }

    fn describe(&self) -> String {
        let path = self.url.split('?').next().unwrap_or(&self.url);
        format!("{} {path}", self.method)
    }

    /// The method and the path under the API's base with ids replaced by `{id}`, such as
    /// `GET activities/{id}`: a name that groups requests without growing with the data.
    fn endpoint(&self) -> String {
        let path = self.url.split('?').next().unwrap_or(&self.url);
        let path = path.split_once("/v3/").map_or(path, |(_, rest)| rest);
        let segments: Vec<&str> = path
            .split('/')
            .map(|segment| {
                let is_id = segment.parse::<uuid::Uuid>().is_ok()
                    || (!segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()));
                if is_id { "{id}" } else { segment }
            })
            .collect();
        format!("{} {}", self.method, segments.join("/"))
    }
}

struct ApiExchange<'a> {
    client: &'a ConstantContact,
    request: &'a ApiRequest,
    /// The token the last attempt carried, so a 401 refreshes only that one.
    token: Option<SecretString>,
}

impl Exchange for ApiExchange<'_> {
    async fn attempt(&mut self) -> Result<Attempt> {
        let client = self.client;
        let waiting = std::time::Instant::now();
        let slot = client.budget.acquire().await?;
        metrics::histogram!("segsync_constant_contact_limiter_wait_seconds")
            .record(waiting.elapsed().as_secs_f64());
        let token = client.tokens.access_token().await?;
        let mut builder = client
            .http
            .request(self.request.method.clone(), &self.request.url)
            .bearer_auth(token.expose_secret())
            .header(header::ACCEPT, self.request.accept)
            .header(header::CACHE_CONTROL, "no-cache");
        if !self.request.query.is_empty() {
            builder = builder.query(&self.request.query);
        }
        if let Some(body) = &self.request.json_body {
            builder = builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        self.token = Some(token);
        client.requests_sent.fetch_add(1, Ordering::Relaxed);
        slot.leaving();
        let sent = builder.send().await;
        // The answer's headers are in (or the attempt failed): Constant Contact has counted it.
        drop(slot);
        let attempt = read_response(sent).await;
        let status = match &attempt {
            Attempt::Response(response) => response.status.as_str().to_owned(),
            Attempt::Failed(_) => "transport_error".to_owned(),
        };
        metrics::counter!(
            "segsync_constant_contact_requests_total",
            "endpoint" => self.request.endpoint(),
            "status" => status
        )
        .increment(1);
        Ok(attempt)
    }

    async fn refresh_access_token(&mut self) -> Result<()> {
        match &self.token {
            Some(token) => self.client.tokens.refresh_rejected(token).await,
            None => self.client.tokens.force_refresh().await,
        }
    }

    fn quota_exhausted(&mut self) -> DateTime<Utc> {
        self.client.budget.mark_quota_exhausted()
    }

    fn describe(&self) -> String {
        self.request.describe()
    }
}

async fn read_response(sent: reqwest::Result<reqwest::Response>) -> Attempt {
    let response = match sent {
        Ok(response) => response,
        Err(error) => return Attempt::Failed(transport_failure(&error)),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, std::time::SystemTime::now()));
    match response.bytes().await {
        Ok(body) => Attempt::Response(RawResponse {
            status,
            retry_after,
            body,
        }),
        Err(error) => Attempt::Failed(transport_failure(&error)),
    }
}

fn transport_failure(error: &reqwest::Error) -> TransportFailure {
    let kind = if error.is_timeout() {
        TransportFailureKind::Timeout
    } else if error.is_builder() || error.is_redirect() {
        TransportFailureKind::Permanent
    } else {
        // Refused and reset connections, bodies cut short, malformed responses.
        TransportFailureKind::Connection
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    TransportFailure { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_requests_without_their_ids() {
        let endpoint =
            |method: Method, url: &str| ApiRequest::new(method, url.to_owned()).endpoint();
        assert_eq!(
            endpoint(
                Method::GET,
                "https://api.cc.email/v3/activities/0f7a8a3e-2a52-11ef-9ab4-fa163e56c9b0?x=1"
            ),
            "GET activities/{id}"
        );
        assert_eq!(
            endpoint(
                Method::POST,
                "http://127.0.0.1:8911/v3/activities/contacts_json_import"
            ),
            "POST activities/contacts_json_import"
        );
        assert_eq!(
            endpoint(Method::GET, "https://api.cc.email/v3/contact_lists/1234"),
            "GET contact_lists/{id}"
        );
    }
}
