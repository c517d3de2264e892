//! The home page: what needs attention now — exports whose last run failed, connections that
//! need re-authenticating, exports that never run on their own — before anything exists, the
//! first steps in order, and once an export exists, what to try next until it is dismissed.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use segsync_store::{Health, RunStatus};
use uuid::Uuid;

use super::fields::Fields;
use super::page::{Nav, act, failure, render};
use super::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use segsync_runs::schedule::{has_active_schedule, system_schedule};

/// Something to look at, with where to go.
struct Attention {
    /// `failed`, `connection` or `unscheduled`, for its style and for tests.
    kind: &'static str,
    what: String,
    why: String,
    link: String,
}

/// What to try next with an export that exists: the one that ran last (or the first), its
/// last run and its first segment.
struct NextSteps {
    export_id: Uuid,
    export_name: String,
    /// The export's last run: its id and status.
    run: Option<(Uuid, String)>,
    /// The export's first segment: its id and name.
    segment: Option<(Uuid, String)>,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    nav: Nav,
    attention: Vec<Attention>,
    exports: usize,
    segments: usize,
    connections: usize,
    /// Runs that ended today (UTC), and how many of them failed.
    runs_today: u64,
    failed_today: u64,
    may_edit: bool,
    next_steps: Option<NextSteps>,
}

pub(crate) async fn page(State(state): State<AppState>, visitor: Visitor) -> Response {
    match load(&state, &visitor).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

async fn load(state: &AppState, visitor: &Visitor) -> Result<HomePage, AppError> {
    let store = &state.store;
    let exports = store.exports().await?;
    let connections = store.connections().await?;
    let segments = store.segments().await?;
    let system = system_schedule(store).await?;
    let name_of = |id: Uuid| {
        exports
            .iter()
            .find(|export| export.id == id)
            .map(|export| export.name.clone())
    };
    let mut attention = Vec::new();
    let mut latest = store.latest_runs().await?;
    latest.sort_by_key(|run| std::cmp::Reverse(run.finished_at.unwrap_or(run.queued_at)));
    let next_steps = if state
        .app
        .account(&visitor.caller)
        .next_steps_dismissed()
        .await?
    {
        None
    } else {
        let last_run = latest.first();
        last_run
            .and_then(|run| exports.iter().find(|export| export.id == run.export_id))
            .or(exports.first())
            .map(|export| NextSteps {
                export_id: export.id,
                export_name: export.name.clone(),
                run: latest
                    .iter()
                    .find(|run| run.export_id == export.id)
                    .map(|run| (run.id, run.status.as_str().replace('_', " "))),
                segment: export.segment_ids.first().and_then(|id| {
                    segments
                        .iter()
                        .find(|segment| segment.id == *id)
                        .map(|segment| (segment.id, segment.name.clone()))
                }),
            })
    };
    for run in latest {
        if !matches!(run.status, RunStatus::Failed | RunStatus::TimedOut) {
            continue;
        }
        let Some(name) = name_of(run.export_id) else {
            continue;
        };
        attention.push(Attention {
            kind: "failed",
            what: format!(
                "The last run of {name} {}",
                run.status.as_str().replace('_', " ")
            ),
            why: run.reason.unwrap_or_default(),
            link: format!("/runs/{}", run.id),
        });
    }
    for connection in &connections {
        if connection.health != Health::NeedsReauthentication {
            continue;
        }
        let using = exports
            .iter()
            .filter(|export| export.connection_id == Some(connection.id))
            .count();
        attention.push(Attention {
            kind: "connection",
            what: format!("The connection {} needs re-authenticating", connection.name),
            why: format!(
                "{}{}",
                connection.health_reason.clone().unwrap_or_default(),
                match (using, visitor.is_admin()) {
                    (0, _) => String::new(),
                    (using, true) => format!(" Its {using} export(s) cannot run until you authenticate it again."),
                    (using, false) => format!(" Its {using} export(s) cannot run until an administrator authenticates it again."),
                }
            ),
            link: if visitor.is_admin() {
                format!("/connections/{}", connection.id)
            } else {
                "/exports".to_owned()
            },
        });
    }
    for export in &exports {
        if export.connection_id.is_some() && !has_active_schedule(export, &system) {
            attention.push(Attention {
                kind: "unscheduled",
                what: format!("{} has no schedule", export.name),
                why: "It runs only when someone runs it.".to_owned(),
                link: format!("/exports/{}", export.id),
            });
        }
    }
    let today = chrono::Utc::now().date_naive();
    let ended_today = store
        .runs_per_day(today.and_time(chrono::NaiveTime::MIN).and_utc())
        .await?;
    let count = |wanted: &dyn Fn(RunStatus) -> bool| -> u64 {
        ended_today
            .iter()
            .filter(|(day, status, _)| *day == today && wanted(*status))
            .map(|(_, _, runs)| runs)
            .sum()
    };
    Ok(HomePage {
        nav: Nav::new(visitor, "home"),
        attention,
        exports: exports.len(),
        segments: segments.len(),
        connections: connections.len(),
        runs_today: count(&|status| !status.is_active()),
        failed_today: count(&|status| matches!(status, RunStatus::Failed | RunStatus::TimedOut)),
        may_edit: visitor.may_edit(),
        next_steps,
    })
}

/// Hides the next steps from the visitor for good.
pub(crate) async fn dismiss_next_steps(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    let account = state.app.account(&visitor.caller);
    act(&visitor, &fields, account.dismiss_next_steps(), |()| {
        "/".to_owned()
    })
    .await
}
