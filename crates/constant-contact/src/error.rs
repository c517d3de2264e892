//! What can go wrong when talking to Constant Contact, in variants a caller can act on.

use chrono::{DateTime, Utc};

/// One error as Constant Contact reports it: a stable key and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub error_key: String,
    pub error_message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_key, self.error_message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API key's requests for today are used up, either by our own count or by
    /// Constant Contact's `quota_exceeded`. Nothing more may be sent before `resets_at`.
    #[error("the daily request quota of this API key is used up; it resets at {resets_at}")]
    QuotaExceeded { resets_at: DateTime<Utc> },

    /// The refresh token was refused (`invalid_grant`): it was used already, revoked or has
    /// expired. Only a person authenticating again can repair the connection.
    #[error("the connection must be authenticated with Constant Contact again: {description}")]
    ReauthenticationRequired { description: String },

    /// Constant Contact refused the access token again right after a refresh.
    #[error("Constant Contact refused a freshly refreshed access token")]
    Unauthorized,

    /// A request Constant Contact refused for a reason retrying cannot fix (400, 403, 404,
    /// 409, 415 and other 4xx), with its own error keys and messages.
    #[error("Constant Contact answered {status}: {}", join(errors))]
    Rejected { status: u16, errors: Vec<ApiError> },

    /// A transient failure (throttling, 5xx, timeouts, dropped connections) that outlasted
    /// the retry policy.
    #[error("gave up after {attempts} attempts; the last failure was: {last_failure}")]
    RetriesExhausted { attempts: u32, last_failure: String },

    /// The authorisation server refused a grant for a reason other than `invalid_grant`.
    #[error("the authorisation server answered {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        error: String,
        description: Option<String>,
    },

    /// The device-flow user did not approve before the device code expired, or declined.
    #[error("device authorisation ended without approval: {0}")]
    DeviceAuthorization(String),

    /// A response whose body does not have the documented shape.
    #[error("unexpected response from {endpoint}: {detail}")]
    UnexpectedResponse { endpoint: String, detail: String },

    /// An activity did not reach a terminal state within the time allowed for polling.
    #[error("activity {activity_id} was still {state} after {waited_seconds} s of polling")]
    PollTimedOut {
        activity_id: String,
        state: String,
        waited_seconds: u64,
    },

    /// An activity ended without completing (`failed`, `cancelled`, `timed_out`), where what
    /// asked for it needs its result.
    #[error("activity {activity_id} ended {state}{}", if errors.is_empty() { String::new() } else { format!(": {}", errors.join("; ")) })]
    ActivityDidNotComplete {
        activity_id: uuid::Uuid,
        state: crate::wire::activities::ActivityState,
        errors: Vec<String>,
    },

    /// The request breaks one of Constant Contact's documented limits and was not sent.
    #[error("request not sent: {0}")]
    InvalidRequest(String),

    /// The token store could not persist or load tokens.
    #[error("the token store failed")]
    TokenStore(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A failure below HTTP that is not worth retrying (bad URL, TLS set-up).
    #[error("could not reach Constant Contact: {0}")]
    Transport(String),
}

fn join(errors: &[ApiError]) -> String {
    if errors.is_empty() {
        return "no error details".to_owned();
    }
    errors
        .iter()
        .map(ApiError::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// The first of Constant Contact's error keys, when it gave one.
    pub fn error_key(&self) -> Option<&str> {
        match self {
            Error::Rejected { errors, .. } => errors.first().map(|e| e.error_key.as_str()),
            Error::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
