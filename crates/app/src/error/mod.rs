//! What a use case answers when it cannot do what was asked: a [`Code`] a client can match on
//! (with its HTTP status), a message for people naming the field, rule or object, and detail
//! where a client can use it. The server answers it as `{ "code", "message", "details" }`; the
//! console shows the message; the command line prints it.

mod code;

pub use code::Code;

use http::StatusCode;
use segsync_connections::ConnectionUnusable;
use segsync_domain::ChainExt;
use segsync_runs::RunsError;
use segsync_store::{Connection, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct AppError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    /// Structured detail where a client can use it, such as each problem of a segment.
    pub details: Option<serde_json::Value>,
    /// When a refused client may try again, answered as `Retry-After`.
    pub retry_after: Option<std::time::Duration>,
}

/// The shape of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable: clients match on it (`forbidden`, `invalid`, `run_in_progress`, …).
    code: Code,
    /// For people: what went wrong, naming the field, rule or object.
    message: String,
    /// Structured detail where a client can use it.
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<serde_json::Value>,
}

impl AppError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// Tells the client when it may try again (whole seconds, rounded up).
    pub fn with_retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Answered with `status` instead of the code's own (a rejection the code only names).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(Code::Unauthenticated, "sign in or send an API token")
    }

    pub fn forbidden(what: &str) -> Self {
        Self::new(Code::Forbidden, format!("your role may not {what}"))
    }

    /// Something the server holds is not as it should be; the detail, with every cause below
    /// it, goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(detail = %format!("{detail:#}"), "An internal error.");
        Self::new(
            Code::Internal,
            "the server met an internal error; its log says more",
        )
    }

    pub fn invalid(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::new(Code::Invalid, format!("{field}: {problem}"))
            .with_details(serde_json::json!({ "field": field }))
    }

    /// The body the server answers with.
    pub fn body(self) -> (StatusCode, ErrorBody) {
        (
            self.status,
            ErrorBody {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for AppError {}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let retry_after = self.retry_after;
        let (status, body) = self.body();
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(wait) = retry_after {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, seconds.max(1).into());
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { .. } => Self::new(Code::NotFound, error.to_string()),
            StoreError::Conflict { .. } => Self::new(Code::Conflict, error.to_string()),
            StoreError::LastAdmin => Self::new(Code::LastAdmin, error.to_string()),
            StoreError::InUse { kind, ref users } => {
                let code = if kind == "segment" {
                    Code::SegmentInUse
                } else {
                    Code::ConnectionInUse
                };
                let details = serde_json::json!({ "exports": users });
                Self::new(code, error.to_string()).with_details(details)
            }
            other => {
                tracing::error!(error = %other.chain(), "The store failed.");
                Self::new(Code::Internal, "the server could not reach its store")
            }
        }
    }
}

impl From<RunsError> for AppError {
    fn from(error: RunsError) -> Self {
        match error {
            RunsError::Store(error) => error.into(),
            RunsError::CorruptSetting { .. } => {
                Self::new(Code::CorruptSetting, error.chain().to_string())
            }
            RunsError::ProfilesNotConfigured => {
                Self::new(Code::ProfilesNotConfigured, error.to_string())
            }
            RunsError::ProfilesUnreadable(error) => profiles_unreadable(&error),
        }
    }
}

/// The profile source could not be read: an answer that names no host, bucket, path or file,
/// since viewers may see it. The whole error goes to the log; admins also see it on the System
/// page.
pub fn profiles_unreadable(error: &segsync_engine::EngineError) -> AppError {
    tracing::warn!(error = %error.chain(), "The profile source could not be read.");
    AppError::new(
        Code::ProfilesUnreadable,
        format!(
            "{}; an admin finds why on the System page",
            error.without_locations()
        ),
    )
}

/// As [`profiles_unreadable`], naming `segment` when the failure is its query's own (the
/// engine, or a cluster, could not carry it out) rather than the source's.
pub fn segment_unevaluable(segment: &str, error: &segsync_engine::EngineError) -> AppError {
    let mut answer = profiles_unreadable(error);
    if matches!(
        error,
        segsync_engine::EngineError::ClusterRejected { .. } | segsync_engine::EngineError::Query(_)
    ) {
        answer.message = format!("the segment {segment:?}: {}", answer.message);
    }
    answer
}

impl From<segsync_engine::EvaluationsBusy> for AppError {
    fn from(busy: segsync_engine::EvaluationsBusy) -> Self {
        Self::new(Code::Busy, busy.to_string()).with_retry_after(std::time::Duration::from_secs(1))
    }
}

impl From<ConnectionUnusable> for AppError {
    fn from(error: ConnectionUnusable) -> Self {
        Self::new(Code::ConnectionUnusable, error.chain().to_string())
    }
}

/// Turns a client failure into an error naming the connection. A refused refresh token has
/// already marked the connection as needing re-authentication — only when it was the newest
/// one — through the connection's token store.
pub fn client_failure(connection: &Connection, error: &constant_contact::Error) -> AppError {
    if let constant_contact::Error::ReauthenticationRequired { description } = error {
        return AppError::new(
            Code::ConnectionNeedsReauthentication,
            format!(
                "the connection {:?}: Constant Contact refused the refresh token: {description}",
                connection.name
            ),
        );
    }
    AppError::new(Code::ConstantContact, error.chain().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_the_cluster_could_not_carry_out_names_its_segment_and_no_location() {
        let rejected = segsync_engine::EngineError::ClusterRejected {
            cluster: "df://10.0.0.5:50050".to_owned(),
            detail: "Internal error: no suitable object store found for s3://lake/profiles/"
                .to_owned(),
        };
        let answer = segment_unevaluable("big spenders", &rejected);
        assert!(
            answer.message.starts_with("the segment \"big spenders\": "),
            "{}",
            answer.message
        );
        assert!(!answer.message.contains("s3://"), "{}", answer.message);
        let unreadable = segsync_engine::EngineError::Read {
            file: "s3://lake/profiles/".to_owned(),
            detail: "gone".to_owned(),
        };
        assert!(
            !segment_unevaluable("x", &unreadable)
                .message
                .contains("the segment")
        );
    }
}
