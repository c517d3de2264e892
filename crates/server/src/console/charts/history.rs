//! An export's run history as pictures: what each run did with the members, how long each
//! took, and the list's size when each began.

use segsync_domain::run_report::RunReport;
use segsync_store::{Run, RunStatus};

use super::{Chart, Line, Series, StackedBars, duration, thousands};

/// The most runs a chart shows: the latest ones.
pub(crate) const RUNS_SHOWN: usize = 30;

/// The charts of an export's runs (newest first, as the store lists them); none before a run
/// has ended.
pub(crate) fn charts(runs: &[Run]) -> Vec<Chart> {
    let mut ended: Vec<&Run> = runs
        .iter()
        .filter(|run| run.finished_at.is_some())
        .take(RUNS_SHOWN)
        .collect();
    ended.reverse();
    if ended.is_empty() {
        return Vec::new();
    }
    let mut charts = vec![members(&ended), durations(&ended)];
    if let Some(sizes) = list_sizes(&ended) {
        charts.push(sizes);
    }
    if let Some(drift) = drift(&ended) {
        charts.push(drift);
    }
    charts
}

/// The list's drift at each reading: members the export meant that were missing from it, and
/// members it held that the export did not mean — once any run has read the list back.
fn drift(runs: &[&Run]) -> Option<Chart> {
    let readings: Vec<(&Run, &segsync_domain::ListVerification)> = runs
        .iter()
        .filter_map(|run| {
            let verification = run.report.as_ref()?.verification.as_ref()?;
            Some((*run, verification))
        })
        .collect();
    let (_, latest) = readings.last()?;
    let series = |name: &str, class, each: fn(&segsync_domain::ListVerification) -> u64| Series {
        name: name.to_owned(),
        class,
        values: readings
            .iter()
            .map(|(_, verification)| each(verification))
            .collect(),
    };
    let readings_runs: Vec<&Run> = readings.iter().map(|(run, _)| *run).collect();
    Some(
        StackedBars {
            id: "chart-drift".to_owned(),
            title: "The list read back".to_owned(),
            summary: format!(
                "At the latest of {} readings the list held {} members: {} the export meant were missing and {} it did not mean were on it.",
                readings.len(),
                thousands(latest.list_members),
                thousands(latest.missing),
                thousands(latest.extra)
            ),
            categories: readings_runs.iter().map(|run| label(run)).collect(),
            links: links(&readings_runs),
            series: vec![
                series("missing", "removed", |verification| verification.missing),
                series("extra", "skipped", |verification| verification.extra),
            ],
            format: thousands,
        }
        .draw(),
    )
}

fn label(run: &Run) -> String {
    run.queued_at.format("%b %-d %H:%M").to_string()
}

fn links(runs: &[&Run]) -> Vec<Option<String>> {
    runs.iter()
        .map(|run| Some(format!("/runs/{}", run.id)))
        .collect()
}

/// A figure of a run's report, 0 for a run without one.
fn count(report: Option<&RunReport>, figure: impl Fn(&RunReport) -> u64) -> u64 {
    report.map_or(0, figure)
}

/// Profiles skipped for a reason of their own: invalid email, a duplicate, unsubscribed, or
/// not on the list in update-only mode.
fn skipped(report: &RunReport) -> u64 {
    report.invalid_total()
        + report.duplicates_collapsed
        + report.sync.unsubscribed
        + report.sync.not_on_list
}

fn members(runs: &[&Run]) -> Chart {
    let reports: Vec<Option<&RunReport>> = runs.iter().map(|run| run.report.as_ref()).collect();
    let series = |name: &str, class, each: &dyn Fn(&RunReport) -> u64| Series {
        name: name.to_owned(),
        class,
        values: reports.iter().map(|report| count(*report, each)).collect(),
    };
    let sent: u64 = reports
        .iter()
        .map(|report| count(*report, |report| report.sent))
        .sum();
    let removed: u64 = reports
        .iter()
        .map(|report| count(*report, |report| report.removed))
        .sum();
    let latest = runs
        .last()
        .map_or(0, |run| count(run.report.as_ref(), |report| report.sent));
    StackedBars {
        id: "chart-members".to_owned(),
        title: "Members per run".to_owned(),
        summary: format!(
            "The last {} runs sent {} contacts in all and removed {}; the latest sent {}.",
            runs.len(),
            thousands(sent),
            thousands(removed),
            thousands(latest)
        ),
        categories: runs.iter().map(|run| label(run)).collect(),
        links: links(runs),
        series: vec![
            series("new to the list", "added", &|report| report.sync.adds),
            series("updated", "updated", &|report| report.sync.updates),
            series("unchanged, not sent", "unchanged", &|report| {
                report.sync.unchanged + report.sync.sent_earlier
            }),
            series("removed", "removed", &|report| report.removed),
            series("skipped", "skipped", &skipped),
        ],
        format: thousands,
    }
    .draw()
}

fn durations(runs: &[&Run]) -> Chart {
    let took = |run: &Run| -> u64 {
        match (run.started_at, run.finished_at) {
            (Some(started), Some(finished)) => {
                u64::try_from((finished - started).num_milliseconds()).unwrap_or(0)
            }
            _ => 0,
        }
    };
    let statuses: Vec<RunStatus> = RunStatus::ALL
        .into_iter()
        .filter(|status| runs.iter().any(|run| run.status == *status))
        .collect();
    let series = statuses
        .iter()
        .map(|status| Series {
            name: status.as_str().replace('_', " "),
            class: status.as_str(),
            values: runs
                .iter()
                .map(|run| if run.status == *status { took(run) } else { 0 })
                .collect(),
        })
        .collect();
    let longest = runs.iter().map(|run| took(run)).max().unwrap_or(0);
    let latest = runs.last().map_or(0, |run| took(run));
    StackedBars {
        id: "chart-durations".to_owned(),
        title: "Duration of each run".to_owned(),
        summary: format!(
            "Of the last {} runs the longest took {}; the latest took {} and {}.",
            runs.len(),
            duration(longest),
            duration(latest),
            runs.last().map_or("", |run| run.status.as_str())
        ),
        categories: runs.iter().map(|run| label(run)).collect(),
        links: links(runs),
        series,
        format: duration,
    }
    .draw()
}

/// The list's size when each run began, once any run has counted it.
fn list_sizes(runs: &[&Run]) -> Option<Chart> {
    let values: Vec<Option<u64>> = runs
        .iter()
        .map(|run| {
            run.report
                .as_ref()
                .and_then(|report| report.list_members_at_start)
        })
        .collect();
    let known: Vec<u64> = values.iter().flatten().copied().collect();
    let (first, last) = (known.first()?, known.last()?);
    Some(
        Line {
            id: "chart-list-size".to_owned(),
            title: "The list's size".to_owned(),
            summary: format!(
                "Members on the list as each run began: {} at the first of these runs, {} at the latest.",
                thousands(*first),
                thousands(*last)
            ),
            name: "members on the list".to_owned(),
            class: "list-size",
            categories: runs.iter().map(|run| label(run)).collect(),
            links: links(runs),
            values,
            format: thousands,
        }
        .draw(),
    )
}
