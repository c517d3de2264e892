//! The request budget of one API key: a rate limiter and a daily quota, shared by every
//! connection and every caller that uses the key.

mod clock;
mod daily_quota;
mod rate_limiter;
mod registry;

use std::time::Duration;

use chrono::Utc;

pub use daily_quota::{DailyQuota, next_utc_midnight};
pub use rate_limiter::{RateLimiter, RequestSlot};
pub use registry::BudgetRegistry;

use crate::error::{Error, Result};

/// The shared budget of one API key.
#[derive(Debug)]
pub struct ApiKeyBudget {
    rate_limiter: RateLimiter,
    daily_quota: std::sync::Mutex<DailyQuota>,
}

impl ApiKeyBudget {
    pub fn new(requests_per_second: u32, daily_quota: u32) -> Self {
        Self {
            rate_limiter: RateLimiter::new(requests_per_second),
            daily_quota: std::sync::Mutex::new(DailyQuota::new(daily_quota)),
        }
    }

    /// Waits for a slot under the rate limit and counts one request against today's quota.
    /// Refuses at once, without waiting, when the quota is used up. Hold the slot until the
    /// request is answered.
    pub async fn acquire(&self) -> Result<RequestSlot<'_>> {
        self.quota().ensure_available(Utc::now())?;
        let slot = self.rate_limiter.until_ready().await;
        self.quota()
            .try_spend(Utc::now())
            .map(|_remaining| slot)
            .map_err(|resets_at| Error::QuotaExceeded { resets_at })
    }

    /// Records that Constant Contact itself answered `quota_exceeded`: nothing more is sent
    /// with this key before the next reset, whatever our own count says.
    pub fn mark_quota_exhausted(&self) -> chrono::DateTime<Utc> {
        self.quota().exhaust(Utc::now())
    }

    /// Requests left today by our own count.
    pub fn remaining_today(&self) -> u32 {
        self.quota().remaining(Utc::now())
    }

    /// Time callers have spent waiting for the rate limiter, in total.
    pub fn time_waited(&self) -> Duration {
        self.rate_limiter.time_waited()
    }

    fn quota(&self) -> std::sync::MutexGuard<'_, DailyQuota> {
        // The quota holds plain counters, so a panic elsewhere cannot leave it inconsistent.
        self.daily_quota
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
