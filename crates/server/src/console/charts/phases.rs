//! A run's phases as a timeline, from the seconds per phase in its report.

use segsync_domain::run_report::RunReport;

use super::{Chart, Span, Timeline, duration};

/// The timeline of the report's phases; none when it has none.
pub(crate) fn chart(report: &RunReport) -> Option<Chart> {
    let mut spans = Vec::new();
    let mut start_ms = 0u64;
    for (name, seconds) in &report.phases {
        let length_ms = (seconds * 1000.0).round().max(0.0) as u64;
        spans.push(Span {
            name: name.clone(),
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
