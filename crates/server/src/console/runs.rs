//! A run's page, live while it runs and with the full report when it ends, and the Status
//! page of every run.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use segsync_domain::list_drift::{DriftCount, ListVerification};
use segsync_domain::run_report::RunReport;
use segsync_store::{RunFilter, RunPurpose, RunStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::charts::{self, Chart};
use super::fields::Fields;
use super::page::{Nav, act, failure, render};
use super::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use segsync_app::runs::RunView;

/// The numbers of a report, in the order a reader checks them: they add up to the profiles read.
struct Figure {
    label: &'static str,
    value: String,
}

/// The part of the run page that changes while the run runs.
#[derive(Template)]
#[template(path = "console/run_live.html")]
struct RunLive {
    status: String,
    active: bool,
    reason: Option<String>,
    phase: String,
    processed: u64,
    total: u64,
    sent: u64,
    figures: Vec<Figure>,
    report_json: Option<String>,
    /// Once it has ended: its phases as a timeline.
    phases: Option<Chart>,
    /// While it can be cancelled by this visitor: the run's id and the session's CSRF token.
    cancel: Option<(Uuid, String)>,
    /// For those who may manage the export.
    skipped_url: Option<String>,
    /// A run a guard stopped: the numbers, and whether this visitor may confirm or discard it.
    awaiting: Option<Awaiting>,
    /// What reading the list back found, once it was read.
    read_back: Option<ReadBack>,
    /// Why the list could not be read back after the run, when it could not.
    read_back_failed: Option<String>,
}

/// What the page shows of the list read back: its figures, then each cause with samples.
struct ReadBack {
    figures: Vec<Figure>,
    causes: Vec<DriftRow>,
}

struct DriftRow {
    kind: &'static str,
    cause: String,
    count: u64,
    samples: String,
}

impl ReadBack {
    fn of(verification: &ListVerification) -> Self {
        let figure = |label: &'static str, value: u64| Figure {
            label,
            value: value.to_string(),
        };
        let row = |kind, cause: &str, drift: &DriftCount| DriftRow {
            kind,
            cause: cause.replace('_', " "),
            count: drift.count,
            samples: drift.samples.join(", "),
        };
        Self {
            figures: vec![
                figure("On the list", verification.list_members),
                figure("Meant to be on it", verification.meant),
                figure("Missing", verification.missing),
                figure("Extra", verification.extra),
                figure(
                    "Forgotten by the ledger (sent again when meant)",
                    verification.ledger_forgotten,
                ),
                figure(
                    "Found unsubscribed (never sent again)",
                    verification.ledger_unsubscribed,
                ),
                figure("Requests used to read it", verification.requests),
            ],
            causes: verification
                .missing_by_cause
                .iter()
                .map(|(cause, drift)| row("missing", cause.as_str(), drift))
                .chain(
                    verification
                        .extra_by_cause
                        .iter()
                        .map(|(cause, drift)| row("extra", cause.as_str(), drift)),
                )
                .collect(),
        }
    }
}

/// What the page shows of a run a guard stopped before it sent anything.
struct Awaiting {
    figures: Vec<Figure>,
    removal_samples: Vec<String>,
    /// The run's id and the session's CSRF token, when the visitor may confirm or discard it.
    decide: Option<(Uuid, String)>,
}

impl Awaiting {
    fn of(run: &RunView, may_decide: bool, csrf: &str) -> Option<Self> {
        let guard = run.guard.as_ref()?;
        if run.status != RunStatus::AwaitingConfirmation {
            return None;
        }
        let figure = |label: &'static str, value: String| Figure { label, value };
        let before = guard
            .members_before
            .map_or_else(|| "no successful run yet".to_owned(), |n| n.to_string());
        Some(Self {
            figures: vec![
                figure("Profiles read", guard.profiles_read.to_string()),
                figure("Members at the last successful run", before),
                figure("Members now", guard.members_now.to_string()),
                figure("On the list", guard.list_members.to_string()),
                figure("Removals planned", guard.removals_planned.to_string()),
                figure(
                    "Guards",
                    format!(
                        "removals over {} of the list, a drop of over {} in members, empty profiles",
                        guard.guards.max_removal_share, guard.guards.max_member_drop
                    ),
                ),
            ],
            removal_samples: guard.removal_samples.clone(),
            decide: may_decide.then(|| (run.id, csrf.to_owned())),
        })
    }
}

impl RunLive {
    /// `may_manage`: the visitor may manage the run's export (cancel it, decide on a guard's
    /// stop, download its skipped members).
    fn of(run: &RunView, may_cancel: bool, csrf: &str) -> Self {
        let progress = run.progress.clone().unwrap_or_default();
        // A run that only read the list back has no sending to report.
        let figures = match run.purpose {
            RunPurpose::Sync => run.report.as_ref().map(figures_of).unwrap_or_default(),
            RunPurpose::Verify => Vec::new(),
        };
        // A run awaiting confirmation has no progress to follow; it is decided below.
        let going = matches!(run.status, RunStatus::Queued | RunStatus::Running);
        Self {
            status: run.status.as_str().to_owned(),
            active: going,
            reason: run.reason.clone(),
            phase: progress.phase_or_waiting().to_owned(),
            processed: progress.members_processed,
            total: progress.members_total,
            sent: progress.contacts_sent,
            figures,
            phases: run.report.as_ref().and_then(charts::phases::chart),
            report_json: run
                .report
                .as_ref()
                .and_then(|report| serde_json::to_string_pretty(report).ok()),
            cancel: (may_cancel && going).then(|| (run.id, csrf.to_owned())),
            skipped_url: may_cancel.then(|| format!("/api/v1/runs/{}/skipped.csv", run.id)),
            awaiting: Awaiting::of(run, may_cancel, csrf),
            read_back: run
                .report
                .as_ref()
                .and_then(|report| report.verification.as_ref())
                .map(ReadBack::of),
            read_back_failed: run
                .report
                .as_ref()
                .and_then(|report| report.verification_failed.clone()),
        }
    }
}

/// What a run's page shows of its report, read from the report itself.
fn figures_of(report: &RunReport) -> Vec<Figure> {
    let sync = &report.sync;
    let counters = &report.constant_contact;
    let figure = |label: &'static str, value: u64| Figure {
        label,
        value: value.to_string(),
    };
    vec![
        figure("Profiles read", report.profiles_read),
        figure("Outside the segments", report.profiles_outside_segments),
        figure("In the segments", report.profiles_in_segments),
        figure("Invalid emails", report.invalid_total()),
        figure("Duplicates collapsed", report.duplicates_collapsed),
        figure("Excluded (never sent)", report.excluded),
        figure("Erased (never sent)", report.erased),
        figure("Unchanged since last sent (not sent)", sync.unchanged),
        figure("Sent before the run was interrupted", sync.sent_earlier),
        figure("Known unsubscribed (not sent)", sync.unsubscribed),
        figure("Not on the list (update only)", sync.not_on_list),
        Figure {
            label: "Sent",
            value: format!(
                "{} ({} new, {} changed)",
                report.sent, sync.adds, sync.updates
            ),
        },
        figure("Not sent", report.not_sent),
        figure(
            "Added or updated by Constant Contact",
            counters.person_count,
        ),
        figure(
            "Could not be added (unsubscribed)",
            counters.cannot_add_to_list_count,
        ),
        figure("Errors reported by Constant Contact", counters.error_count),
        figure("Found unsubscribed, remembered", report.unsubscribed_found),
        figure("Left the segments: removed from the list", report.removed),
        figure("Requests used", report.requests_used),
    ]
}

#[derive(Template)]
#[template(path = "console/run.html")]
struct RunPage {
    nav: Nav,
    run: RunView,
    live: String,
    already: bool,
}

#[derive(Deserialize)]
pub(crate) struct RunQuery {
    already: Option<String>,
}

async fn read(state: &AppState, visitor: &Visitor, id: Uuid) -> Result<RunView, AppError> {
    state.app.runs(&visitor.caller).get(id).await
}

/// Whether the visitor may manage the run's export: cancel the run while it is going, decide on
/// a guard's stop, download its skipped members.
async fn may_cancel(state: &AppState, visitor: &Visitor, run: &RunView) -> bool {
    state.app.runs(&visitor.caller).may_manage(run).await
}

pub(crate) async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Query(query): Query<RunQuery>,
) -> Response {
    let run = match read(&state, &visitor, id).await {
        Ok(run) => run,
        Err(error) => return failure(error),
    };
    let may_cancel = may_cancel(&state, &visitor, &run).await;
    let live = match RunLive::of(&run, may_cancel, visitor.csrf()).render() {
        Ok(html) => html,
        Err(error) => return failure(AppError::internal(error)),
    };
    render(&RunPage {
        nav: Nav::new(&visitor, "status"),
        run,
        live,
        already: query.already.is_some(),
    })
}

/// The live part alone, which the page's script fetches every second.
pub(crate) async fn live(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
) -> Response {
    match read(&state, &visitor, id).await {
        Ok(run) => {
            let may_cancel = may_cancel(&state, &visitor, &run).await;
            render(&RunLive::of(&run, may_cancel, visitor.csrf()))
        }
        Err(error) => failure(error),
    }
}

pub(crate) async fn cancel(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        async {
            state
                .app
                .run_control(&visitor.caller, "cancel runs of this export")?
                .cancel(id)
                .await
        },
        |_| format!("/runs/{id}"),
    )
    .await
}

/// Confirms a run a guard stopped: it goes on, allowed the removals it planned.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        async {
            state
                .app
                .run_control(&visitor.caller, "confirm runs of this export")?
                .confirm(id)
                .await
        },
        |_| format!("/runs/{id}"),
    )
    .await
}

/// Discards a run a guard stopped: nothing is sent.
pub(crate) async fn discard(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        async {
            state
                .app
                .run_control(&visitor.caller, "discard runs of this export")?
                .discard(id)
                .await
        },
        |_| format!("/runs/{id}"),
    )
    .await
}

#[derive(Template)]
#[template(path = "console/status.html")]
struct StatusPage {
    nav: Nav,
    runs: Vec<RunView>,
    status: String,
    statuses: Vec<&'static str>,
    notice: Option<String>,
    next_offset: Option<u64>,
    /// Runs per day by outcome, over the last days.
    per_day: Chart,
}

#[derive(Deserialize)]
pub(crate) struct StatusQuery {
    status: Option<String>,
    offset: Option<u64>,
    notice: Option<String>,
}

const PAGE: u32 = 50;
/// Days the Status page's chart covers, today included.
const CHART_DAYS: u32 = 14;

pub(crate) async fn status(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<StatusQuery>,
) -> Response {
    let status = query.status.unwrap_or_default();
    let offset = query.offset.unwrap_or(0);
    let filter = RunFilter {
        status: RunStatus::parse(&status),
        ..RunFilter::default()
    };
    let reading = state.app.runs(&visitor.caller);
    // One more than a page says whether another page follows.
    let mut runs = match reading.list(&filter, PAGE + 1, offset).await {
        Ok(runs) => runs,
        Err(error) => return failure(error),
    };
    let next_offset = (runs.len() > PAGE as usize).then_some(offset + u64::from(PAGE));
    runs.truncate(PAGE as usize);
    let per_day = match reading.per_day(CHART_DAYS).await {
        Ok(days) => charts::days::chart(&days),
        Err(error) => return failure(error),
    };
    render(&StatusPage {
        nav: Nav::new(&visitor, "status"),
        runs,
        status,
        statuses: RunStatus::ALL.map(RunStatus::as_str).to_vec(),
        notice: query.notice,
        next_offset,
        per_day,
    })
}
