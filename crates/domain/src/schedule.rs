//! The refresh schedule: off, daily or weekly on chosen days, up to four times a day, in an IANA
//! time zone. `next_after` is the one place that turns it into instants, and it is exact across
//! daylight-saving changes:
//!
//! - a time that does not exist that day (the clocks jump over it) runs when the jump ends, so
//!   the day still gets its run;
//! - a time that happens twice (the clocks go back) runs once, at its first occurrence.

use chrono::{DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The most runs a day, as in Customer Insights.
pub const MAX_TIMES_A_DAY: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "frequency", rename_all = "snake_case")]
pub enum Frequency {
    Off,
    Daily,
    Weekly {
        /// Three-letter English day names: `Mon` … `Sun`.
        #[schema(value_type = Vec<String>, example = json!(["Mon", "Thu"]))]
        days: Vec<Weekday>,
    },
    /// When the sources the export reads change and settle (segsync watches them), or when a
    /// pipeline says so (`POST /api/v1/triggers/source-changed`); no times of day.
    OnChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefreshSchedule {
    #[serde(flatten)]
    pub frequency: Frequency,
    /// Local times of day, at most four.
    pub times: Vec<NaiveTime>,
    /// An IANA name such as `Europe/Paris`.
    #[serde(with = "tz_name")]
    #[schema(value_type = String, example = "Europe/Paris")]
    pub time_zone: Tz,
    /// A clock schedule's moment skips an export whose sources did not change since its last
    /// successful run ("unchanged since …") instead of spending requests. On-change schedules
    /// never run over unchanged sources.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_unchanged: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("times: at most {MAX_TIMES_A_DAY} a day, not {0}")]
    TooManyTimes(usize),
    #[error("times: a schedule that is on needs at least one time of day")]
    NoTimes,
    #[error("days: a weekly schedule needs at least one day")]
    NoDays,
    #[error("times: a schedule on change has no times of day")]
    TimesOnChange,
}

impl RefreshSchedule {
    /// The schedule that never runs (the default).
    pub fn off() -> Self {
        Self {
            frequency: Frequency::Off,
            times: Vec::new(),
            time_zone: chrono_tz::UTC,
            skip_unchanged: false,
        }
    }

    /// Whether runs follow the sources' changes rather than the clock.
    pub fn on_change(&self) -> bool {
        self.frequency == Frequency::OnChange
    }

    pub fn check(&self) -> Result<(), ScheduleError> {
        if self.times.len() > MAX_TIMES_A_DAY {
            return Err(ScheduleError::TooManyTimes(self.times.len()));
        }
        match &self.frequency {
            Frequency::Off => Ok(()),
            Frequency::OnChange if !self.times.is_empty() => Err(ScheduleError::TimesOnChange),
            Frequency::OnChange => Ok(()),
            _ if self.times.is_empty() => Err(ScheduleError::NoTimes),
            Frequency::Weekly { days } if days.is_empty() => Err(ScheduleError::NoDays),
            _ => Ok(()),
        }
    }

    fn runs_on(&self, day: NaiveDate) -> bool {
        match &self.frequency {
            Frequency::Off | Frequency::OnChange => false,
            Frequency::Daily => true,
            Frequency::Weekly { days } => days.contains(&day.weekday()),
        }
    }

    /// The first run strictly after `now`, or none when the schedule is off.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.frequency == Frequency::Off || self.times.is_empty() {
            return None;
        }
        let today = now.with_timezone(&self.time_zone).date_naive();
        // Today and the eight days after it hold a run of every weekday, even when today's
        // times have passed.
        (0..=8)
            .filter_map(|offset| today.checked_add_days(Days::new(offset)))
            .filter(|day| self.runs_on(*day))
            .flat_map(|day| {
                let mut instants: Vec<DateTime<Utc>> = self
                    .times
                    .iter()
                    .map(|time| self.instant(day, *time))
                    .collect();
                instants.sort();
                instants
            })
            .find(|instant| *instant > now)
    }

    /// When `time` on `day` happens in the schedule's zone.
    fn instant(&self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = day.and_time(time);
        match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(instant) => instant.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: the first local minute after it that exists.
                let mut probe = local;
                loop {
                    probe += chrono::Duration::minutes(1);
                    if let Some(instant) = self.time_zone.from_local_datetime(&probe).earliest() {
                        return instant.with_timezone(&Utc);
                    }
                }
            }
        }
    }
}

/// Time zones by their IANA names.
mod tz_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(zone.name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom(format!("{name:?} is not an IANA time zone")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    fn daily(times: &[&str], time_zone: Tz) -> RefreshSchedule {
        RefreshSchedule {
            frequency: Frequency::Daily,
            times: times.iter().map(|t| time(t)).collect(),
            time_zone,
            skip_unchanged: false,
        }
    }

    #[test]
    fn schedules_read_and_write_as_json() {
        let schedule = RefreshSchedule {
            frequency: Frequency::Weekly {
                days: vec![Weekday::Mon],
            },
            times: vec![time("06:00")],
            time_zone: chrono_tz::Europe::Paris,
            skip_unchanged: false,
        };
        let json = serde_json::to_value(&schedule).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "frequency": "weekly", "days": ["Mon"], "times": ["06:00:00"], "time_zone": "Europe/Paris" })
        );
        assert_eq!(
            serde_json::from_value::<RefreshSchedule>(json).unwrap(),
            schedule
        );
        let unknown =
            serde_json::json!({ "frequency": "daily", "times": [], "time_zone": "Mars/Olympus" });
        assert!(
            serde_json::from_value::<RefreshSchedule>(unknown)
                .unwrap_err()
                .to_string()
                .contains("Mars/Olympus")
        );
    }

    #[test]
    fn off_never_runs_and_limits_are_checked() {
        assert_eq!(
            RefreshSchedule::off().next_after(at("2026-03-01T00:00:00Z")),
            None
        );
        assert_eq!(
            daily(
                &["01:00", "02:00", "03:00", "04:00", "05:00"],
                chrono_tz::UTC
            )
            .check(),
            Err(ScheduleError::TooManyTimes(5))
        );
        assert_eq!(
            daily(&[], chrono_tz::UTC).check(),
            Err(ScheduleError::NoTimes)
        );
        let weekly = RefreshSchedule {
            frequency: Frequency::Weekly { days: vec![] },
            times: vec![time("06:00")],
            time_zone: chrono_tz::UTC,
            skip_unchanged: false,
        };
        assert_eq!(weekly.check(), Err(ScheduleError::NoDays));
    }

    #[test]
    fn daily_times_come_in_order_in_the_zone() {
        let schedule = daily(&["18:00", "06:00"], chrono_tz::America::New_York);
        // 2026-07-01 is summer time in New York: UTC-4.
        assert_eq!(
            schedule.next_after(at("2026-07-01T09:00:00Z")),
            Some(at("2026-07-01T10:00:00Z"))
        );
        assert_eq!(
            schedule.next_after(at("2026-07-01T10:00:00Z")),
            Some(at("2026-07-01T22:00:00Z")),
            "strictly after"
        );
        assert_eq!(
            schedule.next_after(at("2026-07-01T23:00:00Z")),
            Some(at("2026-07-02T10:00:00Z"))
        );
    }

    #[test]
    fn weekly_runs_only_on_its_days() {
        let schedule = RefreshSchedule {
            frequency: Frequency::Weekly {
                days: vec![Weekday::Mon, Weekday::Thu],
            },
            times: vec![time("07:30")],
            time_zone: chrono_tz::Europe::Paris,
            skip_unchanged: false,
        };
        // Friday 2026-07-03 → Monday 2026-07-06 07:30 in Paris (UTC+2).
        assert_eq!(
            schedule.next_after(at("2026-07-03T12:00:00Z")),
            Some(at("2026-07-06T05:30:00Z"))
        );
        assert_eq!(
            schedule.next_after(at("2026-07-06T05:30:00Z")),
            Some(at("2026-07-09T05:30:00Z"))
        );
    }

    #[test]
    fn the_spring_gap_moves_a_run_to_when_the_clocks_have_jumped() {
        // New York, 2026-03-08: 02:00 local jumps to 03:00 (UTC-5 → UTC-4).
        let schedule = daily(&["02:30", "09:00"], chrono_tz::America::New_York);
        let before = at("2026-03-08T05:00:00Z"); // 00:00 local
        assert_eq!(
            schedule.next_after(before),
            Some(at("2026-03-08T07:00:00Z")),
            "03:00 EDT, the end of the gap"
        );
        assert_eq!(
            schedule.next_after(at("2026-03-08T07:00:00Z")),
            Some(at("2026-03-08T13:00:00Z")),
            "09:00 EDT"
        );
        assert_eq!(
            schedule.next_after(at("2026-03-07T05:00:00Z")),
            Some(at("2026-03-07T07:30:00Z")),
            "the day before: 02:30 EST"
        );
    }

    #[test]
    fn the_autumn_overlap_runs_once_at_the_first_occurrence() {
        // New York, 2026-11-01: 02:00 local goes back to 01:00 (UTC-4 → UTC-5); 01:30 happens twice.
        let schedule = daily(&["01:30"], chrono_tz::America::New_York);
        let first = schedule.next_after(at("2026-11-01T04:00:00Z")).unwrap(); // 00:00 EDT
        assert_eq!(
            first,
            at("2026-11-01T05:30:00Z"),
            "01:30 EDT, the first of the two"
        );
        assert_eq!(
            schedule.next_after(first),
            Some(at("2026-11-02T06:30:00Z")),
            "not again at 01:30 EST; next day 01:30 EST"
        );
    }
}
