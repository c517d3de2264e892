//! Trying again: capped, jittered exponential backoff, and the loop that drives one request
//! through the verdicts of [`classify`](crate::classify).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::classify::{Attempt, RawResponse, Verdict, classify};
use crate::error::{Error, Result};

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. A token refresh does not count as one.
    pub max_attempts: u32,
    /// Backoff before the first retry; it doubles with each further retry.
    pub base_delay: Duration,
    /// The backoff never grows beyond this (a server's `Retry-After` may ask for longer).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry): half of the capped
    /// exponential backoff plus a random part of the other half, never less than `minimum`
    /// nor than what the server asked for in `Retry-After`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, minimum: Duration) -> Duration {
        let doublings = retry.saturating_sub(1).min(20);
        let backoff = self
            .base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        let half = backoff / 2;
        let jitter = rand::thread_rng().gen_range(Duration::ZERO..=half);
        (half + jitter)
            .max(minimum)
            .max(retry_after.unwrap_or(Duration::ZERO))
    }
}

/// One request as the retry loop sees it.
pub(crate) trait Exchange {
    /// Sends the request once (waiting for the rate limiter first).
    async fn attempt(&mut self) -> Result<Attempt>;
    /// Replaces an access token that Constant Contact refused.
    async fn refresh_access_token(&mut self) -> Result<()>;
    /// Constant Contact said `quota_exceeded`; returns when the quota resets.
    fn quota_exhausted(&mut self) -> DateTime<Utc>;
    /// Names the request in logs.
    fn describe(&self) -> String;
}

/// Drives `exchange` until it succeeds or fails for good.
pub(crate) async fn send_with_retries(
    policy: &RetryPolicy,
    exchange: &mut impl Exchange,
) -> Result<RawResponse> {
    let mut attempts = 0;
    let mut refreshed = false;
    loop {
        attempts += 1;
        match classify(exchange.attempt().await?) {
            Verdict::Done(response) => return Ok(response),
            Verdict::RefreshToken if !refreshed => {
                refreshed = true;
                attempts -= 1;
                tracing::info!(request = %exchange.describe(), "Access token refused; refreshing it once.");
                exchange.refresh_access_token().await?;
            }
            Verdict::RefreshToken => return Err(Error::Unauthorized),
            Verdict::QuotaExceeded => {
                let resets_at = exchange.quota_exhausted();
                tracing::warn!(request = %exchange.describe(), %resets_at, "Daily quota exceeded.");
                return Err(Error::QuotaExceeded { resets_at });
            }
            Verdict::Retry {
                reason,
                retry_after,
                minimum,
            } => {
                if attempts >= policy.max_attempts {
                    return Err(Error::RetriesExhausted {
                        attempts,
                        last_failure: reason,
                    });
                }
                let delay = policy.delay(attempts, retry_after, minimum);
                tracing::warn!(
                    request = %exchange.describe(), attempts, delay_ms = delay.as_millis() as u64,
                    %reason, "Transient failure; retrying."
                );
                tokio::time::sleep(delay).await;
            }
            Verdict::Fail(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use bytes::Bytes;
    use reqwest::StatusCode;
    use tokio::time::Instant;

    use super::*;
    use crate::classify::{TransportFailure, TransportFailureKind};

    /// Plays back scripted outcomes and notes when each attempt happened.
    struct Script {
        outcomes: VecDeque<Attempt>,
        started: Instant,
        attempt_times: Vec<Duration>,
        refreshes: u32,
    }

    impl Script {
        fn new(outcomes: impl IntoIterator<Item = Attempt>) -> Self {
            Self {
                outcomes: outcomes.into_iter().collect(),
                started: Instant::now(),
                attempt_times: Vec::new(),
                refreshes: 0,
            }
        }
    }

    impl Exchange for Script {
        async fn attempt(&mut self) -> Result<Attempt> {
            self.attempt_times.push(self.started.elapsed());
            Ok(self
                .outcomes
                .pop_front()
                .expect("script has an outcome for every attempt"))
        }
        async fn refresh_access_token(&mut self) -> Result<()> {
            self.refreshes += 1;
            Ok(())
        }
        fn quota_exhausted(&mut self) -> DateTime<Utc> {
            DateTime::from_timestamp(86_400, 0).unwrap()
        }
        fn describe(&self) -> String {
            "scripted request".to_owned()
        }
    }

    fn status(code: u16, body: &str, retry_after: Option<u64>) -> Attempt {
        Attempt::Response(RawResponse {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
            body: Bytes::copy_from_slice(body.as_bytes()),
        })
    }

    fn reset() -> Attempt {
        Attempt::Failed(TransportFailure {
            kind: TransportFailureKind::Connection,
            message: "connection reset".into(),
        })
    }

    const THROTTLED: &str = r#"{"error_key":"throttled","error_message":"Too Many Requests"}"#;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
        };
        for (retry, full) in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)] {
            let full = Duration::from_secs(full);
            for _ in 0..50 {
                let delay = policy.delay(retry, None, Duration::ZERO);
                assert!(
                    delay >= full / 2 && delay <= full,
                    "retry {retry}: {delay:?}"
                );
            }
        }
        let honoured = policy.delay(1, Some(Duration::from_secs(20)), Duration::ZERO);
        assert_eq!(honoured, Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_with_growing_waits() {
        let policy = RetryPolicy::default();
        let mut script = Script::new([
            status(503, "", None),
            reset(),
            status(500, "", None),
            status(200, "{}", None),
        ]);
        let response = send_with_retries(&policy, &mut script).await.unwrap();
        assert_eq!(response.status, StatusCode::OK);
        let gaps: Vec<_> = script
            .attempt_times
            .windows(2)
            .map(|w| w[1] - w[0])
            .collect();
        assert!(
            gaps[0] >= Duration::from_millis(250) && gaps[0] <= Duration::from_millis(500),
            "{gaps:?}"
        );
        assert!(
            gaps[1] >= Duration::from_millis(500) && gaps[1] <= Duration::from_secs(1),
            "{gaps:?}"
        );
        assert!(
            gaps[2] >= Duration::from_secs(1) && gaps[2] <= Duration::from_secs(2),
            "{gaps:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after_and_the_throttled_minimum() {
        let policy = RetryPolicy::default();
        let mut script = Script::new([
            status(429, THROTTLED, None),
            status(503, "", Some(7)),
            status(201, "{}", None),
        ]);
        send_with_retries(&policy, &mut script).await.unwrap();
        let gaps: Vec<_> = script
            .attempt_times
            .windows(2)
            .map(|w| w[1] - w[0])
            .collect();
        assert!(gaps[0] >= Duration::from_secs(1), "{gaps:?}");
        assert!(gaps[1] >= Duration::from_secs(7), "{gaps:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_last_attempt_with_the_last_reason() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let mut script = Script::new([
            status(503, "", None),
            status(502, "", None),
            status(500, "", None),
        ]);
        let error = send_with_retries(&policy, &mut script).await.unwrap_err();
        match error {
            Error::RetriesExhausted {
                attempts,
                last_failure,
            } => {
                assert_eq!(attempts, 3);
                assert!(last_failure.contains("500"), "{last_failure}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_once_on_401_then_gives_up() {
        let policy = RetryPolicy::default();
        let unauthorized = r#"{"error_key":"unauthorized","error_message":"Unauthorized"}"#;
        let mut recovers = Script::new([status(401, unauthorized, None), status(200, "{}", None)]);
        send_with_retries(&policy, &mut recovers).await.unwrap();
        assert_eq!(recovers.refreshes, 1);

        let mut refused = Script::new([
            status(401, unauthorized, None),
            status(401, unauthorized, None),
        ]);
        let error = send_with_retries(&policy, &mut refused).await.unwrap_err();
        assert!(matches!(error, Error::Unauthorized));
        assert_eq!(refused.refreshes, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn quota_exceeded_stops_at_once_with_the_reset_time() {
        let policy = RetryPolicy::default();
        let mut script = Script::new([status(
            429,
            r#"{"error_key":"quota_exceeded","error_message":"Limit Exceeded"}"#,
            None,
        )]);
        let error = send_with_retries(&policy, &mut script).await.unwrap_err();
        assert!(
            matches!(error, Error::QuotaExceeded { resets_at } if resets_at.timestamp() == 86_400)
        );
        assert_eq!(script.attempt_times.len(), 1);
    }
}
