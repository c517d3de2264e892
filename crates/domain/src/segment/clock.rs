//! The run's time and time zone, against which relative dates are resolved.

use chrono::{DateTime, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    Days,
    Weeks,
    Months,
}

/// A length of calendar time: `90 days`, `2 weeks`, `6 months`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub amount: u32,
    pub unit: PeriodUnit,
}

/// The moment a segment is evaluated, and the time zone its calendar days are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunClock {
    pub now: DateTime<Utc>,
    pub time_zone: Tz,
}

impl RunClock {
    pub fn new(now: DateTime<Utc>, time_zone: Tz) -> Self {
        Self { now, time_zone }
    }

    /// The calendar date of the run in its time zone.
    pub fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.time_zone).date_naive()
    }

    /// The date `period` before today, in calendar terms (30 March minus one month is 28 or
    /// 29 February).
    pub fn date_before(&self, period: Period) -> NaiveDate {
        subtract(self.today(), period)
    }

    /// The instant `period` before now, counted in local calendar time so that "the last 7
    /// days" across a daylight-saving change still starts at the same wall-clock time.
    pub fn instant_before(&self, period: Period) -> DateTime<Utc> {
        let local = self.now.with_timezone(&self.time_zone).naive_local();
        let date = subtract(local.date(), period);
        let start = date.and_time(local.time());
        self.time_zone
            .from_local_datetime(&start)
            .earliest()
            .or_else(|| {
                self.time_zone
                    .from_local_datetime(&(start + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map_or(self.now, |instant| instant.with_timezone(&Utc))
    }

    /// Midnight at the start of `date` in the run's time zone.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        self.time_zone
            .from_local_datetime(&midnight)
            .earliest()
            .or_else(|| {
                self.time_zone
                    .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |instant| instant.with_timezone(&Utc))
    }
}

fn subtract(date: NaiveDate, period: Period) -> NaiveDate {
    let amount = u64::from(period.amount);
    match period.unit {
        PeriodUnit::Days => date.checked_sub_days(Days::new(amount)),
        PeriodUnit::Weeks => date.checked_sub_days(Days::new(amount * 7)),
        PeriodUnit::Months => date.checked_sub_months(Months::new(period.amount)),
    }
    .unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_calendar_time_in_the_run_zone() {
        // 2026-03-30 01:30 UTC is 2026-03-30 03:30 in Paris, the day after the spring change.
        let now = Utc.with_ymd_and_hms(2026, 3, 30, 1, 30, 0).unwrap();
        let clock = RunClock::new(now, chrono_tz::Europe::Paris);
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2026, 3, 30).unwrap());
        let month = Period {
            amount: 1,
            unit: PeriodUnit::Months,
        };
        assert_eq!(
            clock.date_before(month),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        // A week earlier at the same wall-clock time, 03:30 in winter time: 02:30 UTC.
        let week = Period {
            amount: 1,
            unit: PeriodUnit::Weeks,
        };
        assert_eq!(
            clock.instant_before(week),
            Utc.with_ymd_and_hms(2026, 3, 23, 2, 30, 0).unwrap()
        );
        // New York is still on the 29th.
        let new_york = RunClock::new(now, chrono_tz::America::New_York);
        assert_eq!(
            new_york.today(),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
    }
}
