//! Runs per day by outcome: the Status page's picture.

use segsync_store::RunStatus;

use super::{Chart, Series, StackedBars, thousands};
use segsync_app::runs::RunDay;

pub(crate) fn chart(days: &[RunDay]) -> Chart {
    let statuses: Vec<RunStatus> = RunStatus::ALL
        .into_iter()
        .filter(|status| days.iter().any(|day| day.count(*status) > 0))
        .collect();
    let total = |status: RunStatus| -> u64 { days.iter().map(|day| day.count(status)).sum() };
    let all: u64 = statuses.iter().map(|status| total(*status)).sum();
    let summary = if all == 0 {
        format!("No runs in the last {} days.", days.len())
    } else {
        let parts: Vec<String> = statuses
            .iter()
            .map(|status| {
                format!(
                    "{} {}",
                    thousands(total(*status)),
                    status.as_str().replace('_', " ")
                )
            })
            .collect();
        format!(
            "{} runs in the last {} days: {}.",
            thousands(all),
            days.len(),
            parts.join(", ")
        )
    };
    StackedBars {
        id: "chart-runs-per-day".to_owned(),
        title: "Runs per day".to_owned(),
        summary,
        categories: days
            .iter()
            .map(|day| day.day.format("%b %-d").to_string())
            .collect(),
        links: Vec::new(),
        series: statuses
            .iter()
            .map(|status| Series {
                name: status.as_str().replace('_', " "),
                class: status.as_str(),
                values: days.iter().map(|day| day.count(*status)).collect(),
            })
            .collect(),
        format: thousands,
    }
    .draw()
}
