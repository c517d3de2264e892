//! Constant Contact's limits per API key: requests in any one-second window, and requests per
//! UTC day.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LimitVerdict {
    Allowed,
    Throttled,
    QuotaExceeded,
}

#[derive(Debug, Default)]
pub(crate) struct Limits {
    per_client: HashMap<String, ClientUsage>,
}

#[derive(Debug, Default)]
struct ClientUsage {
    /// Arrival times of the requests of the last second.
    recent: VecDeque<tokio::time::Instant>,
    day: Option<NaiveDate>,
    used_today: u32,
}

impl Limits {
    /// Counts a request of `client_id`. The window is sliding: no second, wherever it starts,
    /// holds more than `per_second` allowed requests. Every request counts against the day,
    /// refused ones included.
    pub(crate) fn admit(
        &mut self,
        client_id: &str,
        per_second: u32,
        per_day: u32,
        now: tokio::time::Instant,
        today: DateTime<Utc>,
    ) -> LimitVerdict {
        let usage = self.per_client.entry(client_id.to_owned()).or_default();
        let day = today.date_naive();
        if usage.day != Some(day) {
            usage.day = Some(day);
            usage.used_today = 0;
        }
        if usage.used_today >= per_day {
            return LimitVerdict::QuotaExceeded;
        }
        usage.used_today += 1;
        while usage
            .recent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= Duration::from_secs(1))
        {
            usage.recent.pop_front();
        }
        if usage.recent.len() >= per_second as usize {
            return LimitVerdict::Throttled;
        }
        usage.recent.push_back(now);
        LimitVerdict::Allowed
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sliding_second_and_utc_day() {
        let mut limits = Limits::default();
        let day = Utc.with_ymd_and_hms(2026, 5, 1, 23, 59, 0).unwrap();
        let start = tokio::time::Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        for ms in [0, 100, 200, 300] {
            assert_eq!(limits.admit("k", 4, 7, at(ms), day), LimitVerdict::Allowed);
        }
        assert_eq!(
            limits.admit("k", 4, 7, at(999), day),
            LimitVerdict::Throttled
        );
        assert_eq!(
            limits.admit("k", 4, 7, at(1000), day),
            LimitVerdict::Allowed
        );
        assert_eq!(
            limits.admit("other", 4, 7, at(1000), day),
            LimitVerdict::Allowed
        );
        assert_eq!(
            limits.admit("k", 4, 7, at(5000), day),
            LimitVerdict::Allowed
        );
        assert_eq!(
            limits.admit("k", 4, 7, at(6000), day),
            LimitVerdict::QuotaExceeded
        );
        let next_day = Utc.with_ymd_and_hms(2026, 5, 2, 0, 0, 0).unwrap();
        assert_eq!(
            limits.admit("k", 4, 7, at(7000), next_day),
            LimitVerdict::Allowed
        );
    }
}
