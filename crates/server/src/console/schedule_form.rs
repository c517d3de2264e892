//! The fields of a refresh schedule in a form — the system's, or an export's override — read
//! back into a `RefreshSchedule`.

use segsync_domain::schedule::{Frequency, MAX_TIMES_A_DAY, RefreshSchedule};

use super::fields::Fields;

pub(crate) const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A schedule as its fields show it.
pub(crate) struct ScheduleFields {
    /// `system` (an export following the system schedule), `off`, `daily` or `weekly`.
    pub(crate) mode: String,
    pub(crate) days: Vec<(&'static str, bool)>,
    pub(crate) times: Vec<String>,
    pub(crate) time_zone: String,
    /// Whether "use the system schedule" is a choice (exports only).
    pub(crate) may_follow_system: bool,
    pub(crate) skip_unchanged: bool,
}

impl ScheduleFields {
    pub(crate) fn of(schedule: Option<&RefreshSchedule>, may_follow_system: bool) -> Self {
        let mut times: Vec<String> = schedule
            .map(|schedule| {
                schedule
                    .times
                    .iter()
                    .map(|time| time.format("%H:%M").to_string())
                    .collect()
            })
            .unwrap_or_default();
        times.resize(MAX_TIMES_A_DAY, String::new());
        let chosen: Vec<String> = match schedule.map(|schedule| &schedule.frequency) {
            Some(Frequency::Weekly { days }) => days.iter().map(ToString::to_string).collect(),
            _ => Vec::new(),
        };
        Self {
            mode: match schedule.map(|schedule| &schedule.frequency) {
                None => "system",
                Some(Frequency::Off) => "off",
                Some(Frequency::Daily) => "daily",
                Some(Frequency::Weekly { .. }) => "weekly",
                Some(Frequency::OnChange) => "on_change",
            }
            .to_owned(),
            days: DAYS
                .iter()
                .map(|day| (*day, chosen.iter().any(|chosen| chosen == day)))
                .collect(),
            times,
            time_zone: schedule.map_or_else(|| "UTC".to_owned(), |s| s.time_zone.name().to_owned()),
            may_follow_system,
            skip_unchanged: schedule.is_some_and(|schedule| schedule.skip_unchanged),
        }
    }

    /// What the form says, as it was typed, to show again with its problems.
    pub(crate) fn as_typed(fields: &Fields, may_follow_system: bool) -> Self {
        let mut times: Vec<String> = (0..MAX_TIMES_A_DAY)
            .map(|index| fields.get(&format!("time.{index}")).to_owned())
            .collect();
        times.resize(MAX_TIMES_A_DAY, String::new());
        Self {
            mode: fields.get("schedule").to_owned(),
            days: DAYS
                .iter()
                .map(|day| (*day, fields.has(&format!("day.{day}"))))
                .collect(),
            times,
            time_zone: fields.get("time_zone").to_owned(),
            may_follow_system,
            skip_unchanged: fields.has("skip_unchanged"),
        }
    }
}

/// Reads the schedule: `None` when the export follows the system schedule.
pub(crate) fn read(fields: &Fields) -> Result<Option<RefreshSchedule>, String> {
    let mode = fields.get("schedule");
    if mode == "system" {
        return Ok(None);
    }
    let days: Vec<&str> = DAYS
        .iter()
        .copied()
        .filter(|day| fields.has(&format!("day.{day}")))
        .collect();
    let times: Vec<String> = (0..MAX_TIMES_A_DAY)
        .filter_map(|index| fields.text(&format!("time.{index}")))
        .map(|time| {
            if time.len() == 5 {
                format!("{time}:00")
            } else {
                time
            }
        })
        .collect();
    let time_zone = fields.text("time_zone").unwrap_or_else(|| "UTC".to_owned());
    let skip_unchanged = fields.has("skip_unchanged");
    let written = match mode {
        "off" => serde_json::json!({ "frequency": "off", "times": [], "time_zone": time_zone }),
        "daily" => {
            serde_json::json!({ "frequency": "daily", "times": times, "time_zone": time_zone, "skip_unchanged": skip_unchanged })
        }
        "weekly" => {
            serde_json::json!({ "frequency": "weekly", "days": days, "times": times, "time_zone": time_zone, "skip_unchanged": skip_unchanged })
        }
        "on_change" => {
            serde_json::json!({ "frequency": "on_change", "times": [], "time_zone": time_zone, "skip_unchanged": true })
        }
        other => return Err(format!("no schedule {other:?}")),
    };
    let schedule: RefreshSchedule =
        serde_json::from_value(written).map_err(|error| error.to_string())?;
    schedule.check().map_err(|problem| problem.to_string())?;
    Ok(Some(schedule))
}
