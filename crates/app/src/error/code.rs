//! Every failure the API answers with, once: its stable `code`, its HTTP status and what it
//! means. Clients and the console match on the variant; the OpenAPI document lists the codes
//! from here.

use http::StatusCode;
use serde::Serialize;

/// What went wrong, as a client can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// No session and no API token: sign in or send a token.
    Unauthenticated,
    /// A username and password that do not match.
    InvalidCredentials,
    /// Too many wrong passwords at sign-in for this user or address, or at a password change
    /// for this user; `Retry-After` says when to try again.
    SignInLocked,
    /// The caller's role may not do this.
    Forbidden,
    /// A change sent with a session cookie but without its CSRF token.
    Csrf,
    /// No such object.
    NotFound,
    /// Another object already has this name.
    Conflict,
    /// The last enabled admin stays an enabled admin.
    LastAdmin,
    /// Exports send the segment, or other segments refer to it (`details`).
    SegmentInUse,
    /// Exports use the connection (`details.exports`).
    ConnectionInUse,
    /// A field of the request is not valid (`details.field`).
    Invalid,
    /// A segment does not validate; each problem at its rule path in `details.errors`.
    InvalidSegment,
    /// The body is not the JSON the operation takes.
    InvalidBody,
    /// Creating a connection needs the admin's consent to Constant Contact's terms.
    ConsentRequired,
    /// The export fills custom fields the Constant Contact account lacks.
    CustomFieldsMissing,
    /// The Constant Contact list does not exist.
    ListNotFound,
    /// A run could not start; the message says why.
    CannotRun,
    /// The export's connection was removed.
    ExportDetached,
    /// Scheduled runs need the export user, which does not exist.
    NoExportUser,
    /// The export already has a run queued or running (`details.run_id`).
    RunInProgress,
    /// The run has already ended.
    RunEnded,
    /// The run does not wait for a person's confirmation (it was confirmed, discarded, or never
    /// stopped by a guard).
    NotAwaitingConfirmation,
    /// The erasure did not fail, so there is nothing to retry.
    ErasureNotFailed,
    /// No profile source is configured.
    ProfilesNotConfigured,
    /// The profile source could not be read.
    ProfilesUnreadable,
    /// The connection cannot act now (not authenticated, no tokens, keys that do not open them).
    ConnectionUnusable,
    /// Constant Contact refused the connection's refresh token: an admin must authenticate it
    /// again.
    ConnectionNeedsReauthentication,
    /// Constant Contact answered with an error.
    ConstantContact,
    /// Today's requests of the API key are spent; `Retry-After` says when they reset.
    QuotaSpent,
    /// The OAuth flow was refused: an unknown or used state, or Constant Contact's error.
    Oauth,
    /// A stored setting does not read.
    CorruptSetting,
    /// The server met an internal error; its log says more.
    Internal,
    /// The request could not be read.
    BadRequest,
    /// The path does not take this method.
    MethodNotAllowed,
    /// The path does not answer in a type the request accepts.
    NotAcceptable,
    /// The body is larger than the API takes.
    BodyTooLarge,
    /// The request was not handled within the server's time limit.
    RequestTimeout,
    /// The body is not JSON.
    UnsupportedMediaType,
    /// Too many requests; `Retry-After` says when to try again.
    TooManyRequests,
    /// The server is doing as much of this as it takes at once; `Retry-After` says when to try
    /// again.
    Busy,
    /// Refused for another reason; the status says which.
    Rejected,
}

impl Code {
    /// Every code, in the order above.
    pub const ALL: [Self; 41] = [
        Self::Unauthenticated,
        Self::InvalidCredentials,
        Self::SignInLocked,
        Self::Forbidden,
        Self::Csrf,
        Self::NotFound,
        Self::Conflict,
        Self::LastAdmin,
        Self::SegmentInUse,
        Self::ConnectionInUse,
        Self::Invalid,
        Self::InvalidSegment,
        Self::InvalidBody,
        Self::ConsentRequired,
        Self::CustomFieldsMissing,
        Self::ListNotFound,
        Self::CannotRun,
        Self::ExportDetached,
        Self::NoExportUser,
        Self::RunInProgress,
        Self::RunEnded,
        Self::NotAwaitingConfirmation,
        Self::ErasureNotFailed,
        Self::ProfilesNotConfigured,
        Self::ProfilesUnreadable,
        Self::ConnectionUnusable,
        Self::ConnectionNeedsReauthentication,
        Self::ConstantContact,
        Self::QuotaSpent,
        Self::Oauth,
        Self::CorruptSetting,
        Self::Internal,
        Self::BadRequest,
        Self::MethodNotAllowed,
        Self::NotAcceptable,
        Self::BodyTooLarge,
        Self::RequestTimeout,
        Self::UnsupportedMediaType,
        Self::TooManyRequests,
        Self::Busy,
        Self::Rejected,
    ];

    /// The status the code is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::SignInLocked | Self::TooManyRequests | Self::Busy | Self::QuotaSpent => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict
            | Self::LastAdmin
            | Self::SegmentInUse
            | Self::ConnectionInUse
            | Self::CannotRun
            | Self::ExportDetached
            | Self::NoExportUser
            | Self::RunInProgress
            | Self::RunEnded
            | Self::NotAwaitingConfirmation
            | Self::ErasureNotFailed
            | Self::ProfilesNotConfigured
            | Self::ConnectionUnusable
            | Self::ConnectionNeedsReauthentication => StatusCode::CONFLICT,
            Self::Invalid
            | Self::InvalidSegment
            | Self::InvalidBody
            | Self::ConsentRequired
            | Self::CustomFieldsMissing
            | Self::ListNotFound => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ProfilesUnreadable | Self::ConstantContact => StatusCode::BAD_GATEWAY,
            Self::Oauth | Self::BadRequest | Self::Rejected => StatusCode::BAD_REQUEST,
            Self::CorruptSetting | Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    /// The stable text clients match on: `run_in_progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::SignInLocked => "sign_in_locked",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::LastAdmin => "last_admin",
            Self::SegmentInUse => "segment_in_use",
            Self::ConnectionInUse => "connection_in_use",
            Self::Invalid => "invalid",
            Self::InvalidSegment => "invalid_segment",
            Self::InvalidBody => "invalid_body",
            Self::ConsentRequired => "consent_required",
            Self::CustomFieldsMissing => "custom_fields_missing",
            Self::ListNotFound => "list_not_found",
            Self::CannotRun => "cannot_run",
            Self::ExportDetached => "export_detached",
            Self::NoExportUser => "no_export_user",
            Self::RunInProgress => "run_in_progress",
            Self::RunEnded => "run_ended",
            Self::NotAwaitingConfirmation => "not_awaiting_confirmation",
            Self::ErasureNotFailed => "erasure_not_failed",
            Self::ProfilesNotConfigured => "profiles_not_configured",
            Self::ProfilesUnreadable => "profiles_unreadable",
            Self::ConnectionUnusable => "connection_unusable",
            Self::ConnectionNeedsReauthentication => "connection_needs_reauthentication",
            Self::ConstantContact => "constant_contact",
            Self::QuotaSpent => "quota_spent",
            Self::Oauth => "oauth",
            Self::CorruptSetting => "corrupt_setting",
            Self::Internal => "internal",
            Self::BadRequest => "bad_request",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::NotAcceptable => "not_acceptable",
            Self::BodyTooLarge => "body_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests => "too_many_requests",
            Self::Busy => "busy",
            Self::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_written_as_its_stable_text_and_codes_are_distinct() {
        for code in Code::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(code.as_str())
            );
        }
        let distinct: std::collections::HashSet<&str> =
            Code::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(distinct.len(), Code::ALL.len());
    }
}
