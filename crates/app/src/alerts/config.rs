//! The `[alerts]` configuration: which webhooks are told what, and how often the sender looks.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// Webhooks told when runs fail or time out and when a connection comes to need
/// re-authentication.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub webhooks: Vec<WebhookConfig>,
    /// How often the process that sends alerts looks for new ones, in seconds; an alert leaves
    /// within two of these of what it tells.
    pub check_seconds: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            webhooks: Vec::new(),
            check_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where each alert is posted, as JSON.
    #[serde(with = "url_text")]
    pub url: Url,
    /// Signs each delivery (HMAC-SHA256 in `X-Segsync-Signature`), so that the receiver can
    /// tell it came from this installation.
    #[serde(default, serialize_with = "redacted")]
    pub secret: Option<SecretString>,
    /// The events it is sent; every event when empty.
    #[serde(default)]
    pub events: Vec<AlertEvent>,
}

impl WebhookConfig {
    pub fn wants(&self, event: AlertEvent) -> bool {
        self.events.is_empty() || self.events.contains(&event)
    }
}

/// What an alert tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertEvent {
    #[serde(rename = "run.failed")]
    RunFailed,
    #[serde(rename = "run.timed_out")]
    RunTimedOut,
    /// A guard stopped a run before it sent anything; a person must confirm or discard it.
    #[serde(rename = "run.needs_confirmation")]
    RunNeedsConfirmation,
    #[serde(rename = "connection.needs_reauthentication")]
    ConnectionNeedsReauthentication,
}

impl AlertEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunFailed => "run.failed",
            Self::RunTimedOut => "run.timed_out",
            Self::RunNeedsConfirmation => "run.needs_confirmation",
            Self::ConnectionNeedsReauthentication => "connection.needs_reauthentication",
        }
    }
}

/// A set secret is written as `[REDACTED]` when the configuration is shown (defaults are
/// serialised to seed configuration layers; a set secret never is).
pub fn redacted<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_str("[REDACTED]"),
        None => serializer.serialize_none(),
    }
}

/// URLs as text (the `url` crate is built here without its serde support).
pub mod url_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use url::Url;

    pub fn serialize<S: Serializer>(url: &Url, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(url.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Url, D::Error> {
        let text = String::deserialize(deserializer)?;
        Url::parse(&text)
            .map_err(|error| serde::de::Error::custom(format!("{text:?} is not a URL: {error}")))
    }
}
