//! Requests per UTC day for one API key. Constant Contact resets the count at 00:00:00 UTC.

use chrono::{DateTime, Days, NaiveDate, Utc};

#[derive(Debug)]
pub struct DailyQuota {
    limit: u32,
    day: Option<NaiveDate>,
    used: u32,
    /// Set when Constant Contact said `quota_exceeded` before our own count ran out.
    exhausted_until: Option<DateTime<Utc>>,
}

/// The first instant of the UTC day after `now`.
pub fn next_utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now
        .date_naive()
        .checked_add_days(Days::new(1))
        .expect("date in range");
    tomorrow
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
}

impl DailyQuota {
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            day: None,
            used: 0,
            exhausted_until: None,
        }
    }

    /// Counts one request, or answers when the quota resets.
    pub fn try_spend(&mut self, now: DateTime<Utc>) -> Result<u32, DateTime<Utc>> {
        self.ensure_available(now)
            .map_err(|_| next_utc_midnight(now))?;
        self.used += 1;
        Ok(self.limit - self.used)
    }

    /// Fails with [`crate::Error::QuotaExceeded`] when nothing is left today.
    pub fn ensure_available(&mut self, now: DateTime<Utc>) -> crate::error::Result<()> {
        self.roll_over(now);
        if self.remaining(now) == 0 {
            return Err(crate::Error::QuotaExceeded {
                resets_at: next_utc_midnight(now),
            });
        }
        Ok(())
    }

    /// Marks today as used up; returns the reset time.
    pub fn exhaust(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let resets_at = next_utc_midnight(now);
        self.exhausted_until = Some(resets_at);
        resets_at
    }

    pub fn remaining(&mut self, now: DateTime<Utc>) -> u32 {
        self.roll_over(now);
        if self.exhausted_until.is_some() {
            return 0;
        }
        self.limit.saturating_sub(self.used)
    }

    fn roll_over(&mut self, now: DateTime<Utc>) {
        let today = now.date_naive();
        if self.day != Some(today) {
            self.day = Some(today);
            self.used = 0;
        }
        if self.exhausted_until.is_some_and(|until| now >= until) {
            self.exhausted_until = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, minute, second)
            .unwrap()
    }

    #[test]
    fn counts_down_and_resets_at_utc_midnight() {
        let mut quota = DailyQuota::new(3);
        assert_eq!(quota.try_spend(at(8, 10, 0, 0)), Ok(2));
        assert_eq!(quota.try_spend(at(8, 12, 0, 0)), Ok(1));
        assert_eq!(quota.try_spend(at(8, 23, 59, 58)), Ok(0));
        assert_eq!(quota.try_spend(at(8, 23, 59, 59)), Err(at(9, 0, 0, 0)));
        assert_eq!(quota.try_spend(at(9, 0, 0, 0)), Ok(2));
    }

    #[test]
    fn the_servers_quota_exceeded_holds_until_the_reset() {
        let mut quota = DailyQuota::new(10_000);
        assert_eq!(quota.exhaust(at(8, 15, 30, 0)), at(9, 0, 0, 0));
        assert_eq!(quota.remaining(at(8, 23, 0, 0)), 0);
        assert!(quota.ensure_available(at(8, 23, 0, 0)).is_err());
        assert_eq!(quota.remaining(at(9, 0, 0, 1)), 10_000);
    }
}
