//! The one function that decides what an HTTP exchange with Constant Contact means.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;

use crate::error::{ApiError, Error};
use crate::wire::errors::parse_error_body;

/// Constant Contact advises waiting at least a second after `throttled`.
pub const THROTTLED_MINIMUM_WAIT: Duration = Duration::from_secs(1);

/// A complete response: status, the `Retry-After` it carried, and the body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    pub body: Bytes,
}

/// How an exchange failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailureKind {
    /// No answer within the request timeout.
    Timeout,
    /// The connection could not be made, or was reset or closed before a full answer.
    Connection,
    /// Anything else (a malformed URL, a TLS configuration problem): retrying cannot help.
    Permanent,
}

#[derive(Debug, Clone)]
pub struct TransportFailure {
    pub kind: TransportFailureKind,
    pub message: String,
}

/// One try: a response, or a failure before one arrived.
#[derive(Debug)]
pub enum Attempt {
    Response(RawResponse),
    Failed(TransportFailure),
}

/// What to do after an attempt.
#[derive(Debug)]
pub enum Verdict {
    Done(RawResponse),
    /// A transient failure: wait at least `minimum` (and `retry_after` when the server said
    /// so), then try again.
    Retry {
        reason: String,
        retry_after: Option<Duration>,
        minimum: Duration,
    },
    /// 401: the access token was refused; refresh it once and try again.
    RefreshToken,
    /// 429 `quota_exceeded`: stop until the daily reset.
    QuotaExceeded,
    Fail(Error),
}

/// Error keys of the old Mashery gateway, which answered rate limiting with 403.
const LEGACY_RATE_LIMIT_KEYS: &[&str] = &[
    "mashery.not.authorized.over.qps",
    "mashery.not.authorized.over.ratelimit",
];

pub fn classify(attempt: Attempt) -> Verdict {
    let response = match attempt {
        Attempt::Response(response) => response,
        Attempt::Failed(failure) => {
            return match failure.kind {
                TransportFailureKind::Timeout | TransportFailureKind::Connection => {
                    Verdict::Retry {
                        reason: failure.message,
                        retry_after: None,
                        minimum: Duration::ZERO,
                    }
                }
                TransportFailureKind::Permanent => Verdict::Fail(Error::Transport(failure.message)),
            };
        }
    };
    let status = response.status;
    if status.is_success() {
        return Verdict::Done(response);
    }
    let errors = parse_error_body(&response.body);
    let has_key = |keys: &[&str]| errors.iter().any(|e| keys.contains(&e.error_key.as_str()));
    match status {
        StatusCode::TOO_MANY_REQUESTS if has_key(&["quota_exceeded"]) => Verdict::QuotaExceeded,
        // `throttled`, the 1,000-queued-activities limit, and any 429 we cannot read.
        StatusCode::TOO_MANY_REQUESTS => Verdict::Retry {
            reason: describe(status, &errors),
            retry_after: response.retry_after,
            minimum: THROTTLED_MINIMUM_WAIT,
        },
        StatusCode::FORBIDDEN if has_key(LEGACY_RATE_LIMIT_KEYS) => Verdict::Retry {
            reason: describe(status, &errors),
            retry_after: response.retry_after,
            minimum: THROTTLED_MINIMUM_WAIT,
        },
        StatusCode::REQUEST_TIMEOUT => Verdict::Retry {
            reason: describe(status, &errors),
            retry_after: response.retry_after,
            minimum: Duration::ZERO,
        },
        StatusCode::UNAUTHORIZED => Verdict::RefreshToken,
        status if status.is_server_error() => Verdict::Retry {
            reason: describe(status, &errors),
            retry_after: response.retry_after,
            minimum: Duration::ZERO,
        },
        status if status.is_client_error() => Verdict::Fail(Error::Rejected {
            status: status.as_u16(),
            errors,
        }),
        status => Verdict::Fail(Error::UnexpectedResponse {
            endpoint: String::new(),
            detail: format!("status {status}"),
        }),
    }
}

fn describe(status: StatusCode, errors: &[ApiError]) -> String {
    match errors.first() {
        Some(error) => format!("{status} ({error})"),
        None => status.to_string(),
    }
}

/// Reads `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Attempt {
        Attempt::Response(RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            body: Bytes::copy_from_slice(body.as_bytes()),
        })
    }

    #[test]
    fn success_is_done() {
        assert!(matches!(classify(response(201, "{}")), Verdict::Done(_)));
    }

    #[test]
    fn throttled_waits_at_least_a_second() {
        let verdict = classify(response(
            429,
            r#"{"error_key":"throttled","error_message":"Too Many Requests"}"#,
        ));
        assert!(
            matches!(verdict, Verdict::Retry { minimum, .. } if minimum == THROTTLED_MINIMUM_WAIT)
        );
    }

    #[test]
    fn quota_exceeded_stops() {
        let verdict = classify(response(
            429,
            r#"{"error_key":"quota_exceeded","error_message":"Limit Exceeded"}"#,
        ));
        assert!(matches!(verdict, Verdict::QuotaExceeded));
    }

    #[test]
    fn server_errors_and_timeouts_retry() {
        for status in [408, 500, 502, 503, 504] {
            assert!(
                matches!(classify(response(status, "")), Verdict::Retry { .. }),
                "{status}"
            );
        }
        for kind in [
            TransportFailureKind::Timeout,
            TransportFailureKind::Connection,
        ] {
            let failure = TransportFailure {
                kind,
                message: "reset".into(),
            };
            assert!(matches!(
                classify(Attempt::Failed(failure)),
                Verdict::Retry { .. }
            ));
        }
    }

    #[test]
    fn unauthorized_refreshes() {
        let verdict = classify(response(
            401,
            r#"{"error_key":"unauthorized","error_message":"Unauthorized"}"#,
        ));
        assert!(matches!(verdict, Verdict::RefreshToken));
    }

    #[test]
    fn other_client_errors_fail_with_constant_contacts_keys() {
        let verdict = classify(response(
            404,
            r#"[{"error_key":"contact_lists.api.not_found","error_message":"The requested resource was not found"}]"#,
        ));
        let Verdict::Fail(error) = verdict else {
            panic!("expected a failure")
        };
        assert_eq!(error.error_key(), Some("contact_lists.api.not_found"));
        assert!(error.to_string().contains("404"));
    }

    #[test]
    fn legacy_mashery_403_is_rate_limiting() {
        let verdict = classify(response(
            403,
            r#"{"error_key":"mashery.not.authorized.over.qps","error_message":"Over QPS"}"#,
        ));
        assert!(matches!(verdict, Verdict::Retry { .. }));
    }

    #[test]
    fn retry_after_as_seconds_or_date() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
