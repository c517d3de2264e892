//! A run's phases as a timeline, from the seconds per phase in its report.

use serde_json::Value;

use super::{Chart, Span, Timeline, duration};

/// The timeline of the report's phases; none when it has none.
pub(crate) fn chart(report: &Value) -> Option<Chart> {
    let phases = report["phases"].as_array()?;
    let mut spans = Vec::new();
    let mut start_ms = 0u64;
    for phase in phases {
        let (Some(name), Some(seconds)) = (phase[0].as_str(), phase[1].as_f64()) else {
            continue;
        };
        let length_ms = (seconds * 1000.0).round().max(0.0) as u64;
        spans.push(Span {
            name: name.to_owned(),
            start_ms,
            length_ms,
        });
        start_ms += length_ms;
    }
    let longest = spans.iter().max_by_key(|span| span.length_ms)?;
    let summary = format!(
        "{} phases over {}; the longest was {} at {}.",
        spans.len(),
        duration(start_ms),
        longest.name,
        duration(longest.length_ms)
    );
    Some(
        Timeline {
            id: "chart-phases".to_owned(),
            title: "Phases of the run".to_owned(),
            summary,
            spans,
        }
        .draw(),
    )
}
