//! A run's page, live while it runs and with the full report when it ends, and the Status
//! page of every run.

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use segsync_store::RunStatus;
use serde::Deserialize;
use uuid::Uuid;

use super::charts::{self, Chart};
use super::fields::Fields;
use super::page::{Nav, act, failure, render};
use super::visitor::Visitor;
use crate::error::ApiError;
use crate::routes::exports::may_manage;
use crate::routes::paging::PageQuery;
use crate::routes::run_days::{self, DaysQuery};
use crate::routes::runs::{self, RunView, RunsQuery};
use crate::state::AppState;

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
    skipped_url: String,
}

impl RunLive {
    fn of(run: &RunView, may_cancel: bool, csrf: &str) -> Self {
        let progress = run.progress.clone().unwrap_or_default();
        let number = |value: &serde_json::Value, key: &str| value[key].as_u64().unwrap_or(0);
        let figures = run
            .report
            .as_ref()
            .map(|report| {
                let invalid: u64 = report["invalid"]
                    .as_object()
                    .map(|reasons| reasons.values().filter_map(serde_json::Value::as_u64).sum())
                    .unwrap_or(0);
                let counters = &report["constant_contact"];
                let sync = &report["sync"];
                vec![
                    Figure {
                        label: "Profiles read",
                        value: number(report, "profiles_read").to_string(),
                    },
                    Figure {
                        label: "Outside the segments",
                        value: number(report, "profiles_outside_segments").to_string(),
                    },
                    Figure {
                        label: "In the segments",
                        value: number(report, "profiles_in_segments").to_string(),
                    },
                    Figure {
                        label: "Invalid emails",
                        value: invalid.to_string(),
                    },
                    Figure {
                        label: "Duplicates collapsed",
                        value: number(report, "duplicates_collapsed").to_string(),
                    },
                    Figure {
                        label: "Unchanged since last sent (not sent)",
                        value: number(sync, "unchanged").to_string(),
                    },
                    Figure {
                        label: "Sent before the run was interrupted",
                        value: number(sync, "sent_earlier").to_string(),
                    },
                    Figure {
                        label: "Known unsubscribed (not sent)",
                        value: number(sync, "unsubscribed").to_string(),
                    },
                    Figure {
                        label: "Not on the list (update only)",
                        value: number(sync, "not_on_list").to_string(),
                    },
                    Figure {
                        label: "Sent",
                        value: format!(
                            "{} ({} new, {} changed)",
                            number(report, "sent"),
                            number(sync, "adds"),
                            number(sync, "updates")
                        ),
                    },
                    Figure {
                        label: "Not sent",
                        value: number(report, "not_sent").to_string(),
                    },
                    Figure {
                        label: "Added or updated by Constant Contact",
                        value: number(counters, "person_count").to_string(),
                    },
                    Figure {
                        label: "Could not be added (unsubscribed)",
                        value: number(counters, "cannot_add_to_list_count").to_string(),
                    },
                    Figure {
                        label: "Errors reported by Constant Contact",
                        value: number(counters, "error_count").to_string(),
                    },
                    Figure {
                        label: "Found unsubscribed, remembered",
                        value: number(report, "unsubscribed_found").to_string(),
                    },
                    Figure {
                        label: "Left the segments: removed from the list",
                        value: number(report, "removed").to_string(),
                    },
                    Figure {
                        label: "Requests used",
                        value: number(report, "requests_used").to_string(),
                    },
                ]
            })
            .unwrap_or_default();
        Self {
            status: run.status.as_str().to_owned(),
            active: run.status.is_active(),
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
            cancel: (may_cancel && run.status.is_active()).then(|| (run.id, csrf.to_owned())),
            skipped_url: format!("/api/v1/runs/{}/skipped.csv", run.id),
        }
    }
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

async fn read(state: &AppState, visitor: &Visitor, id: Uuid) -> Result<RunView, ApiError> {
    let Json(run) = runs::get(State(state.clone()), visitor.caller.clone(), Path(id)).await?;
    Ok(run)
}

/// Whether the visitor may cancel the run while it is active.
async fn may_cancel(state: &AppState, visitor: &Visitor, run: &RunView) -> bool {
    run.status.is_active()
        && match state.store.export(run.export_id).await {
            Ok(export) => may_manage(state, &visitor.caller, &export)
                .await
                .unwrap_or(false),
            Err(_) => false,
        }
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
        Err(error) => return failure(ApiError::internal(error)),
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
        runs::cancel(State(state), visitor.caller.clone(), Path(id)),
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
    let page = PageQuery::new(PAGE, query.offset.unwrap_or(0));
    let found = runs::list(
        State(state.clone()),
        visitor.caller.clone(),
        Query(RunsQuery {
            status: RunStatus::parse(&status),
        }),
        Query(page),
    )
    .await;
    let (runs, next_offset) = match found {
        Ok(paged) => paged.into_parts(),
        Err(error) => return failure(error),
    };
    let days = DaysQuery {
        days: Some(CHART_DAYS),
    };
    let per_day = match run_days::per_day(State(state), visitor.caller.clone(), Query(days)).await {
        Ok(Json(days)) => charts::days::chart(&days),
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
