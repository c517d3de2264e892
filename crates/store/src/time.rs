//! Times are stored as Unix milliseconds, which both databases sort and compare alike.

use chrono::{DateTime, Utc};

pub fn to_millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

pub fn from_millis(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}
