//! The list of exports, with search and each export's last run.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use segsync_domain::schedule::RefreshSchedule;
use segsync_store::Run;
use serde::Deserialize;
use uuid::Uuid;

use crate::console::listing::{ListQuery, Listing};
use crate::console::page::{Nav, failure, render};
use crate::console::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use segsync_app::exports::ExportView;
use segsync_runs::schedule::system_schedule;

/// One export in the list.
struct ExportRow {
    id: Uuid,
    name: String,
    connection: String,
    list_id: String,
    segments: String,
    schedule: String,
    last_status: Option<String>,
    last_when: Option<String>,
    you_may: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "console/exports.html")]
struct ExportsPage {
    nav: Nav,
    rows: Vec<ExportRow>,
    listing: Listing,
    /// Whether any export exists, for the empty state.
    any: bool,
    may_edit: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Notice {
    notice: Option<String>,
}

fn when(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(crate) async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(notice): Query<Notice>,
    Query(search): Query<ListQuery>,
) -> Response {
    match list_page(&state, &visitor, notice, search).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

async fn list_page(
    state: &AppState,
    visitor: &Visitor,
    notice: Notice,
    search: ListQuery,
) -> Result<ExportsPage, AppError> {
    let exports = state.app.exports(&visitor.caller);
    let mut views = Vec::new();
    for export in exports.all().await? {
        views.push(exports.view(export).await?);
    }
    let connections: HashMap<Uuid, String> = state
        .store
        .connections()
        .await?
        .into_iter()
        .map(|connection| (connection.id, connection.name))
        .collect();
    let segments: HashMap<Uuid, String> = state
        .store
        .segments()
        .await?
        .into_iter()
        .map(|segment| (segment.id, segment.name))
        .collect();
    let latest: HashMap<Uuid, Run> = state
        .store
        .latest_runs()
        .await?
        .into_iter()
        .map(|run| (run.export_id, run))
        .collect();
    let system = system_schedule(&state.store).await?;
    let any = !views.is_empty();
    let connection_of = |view: &ExportView| {
        view.connection_id
            .and_then(|id| connections.get(&id).cloned())
            .unwrap_or_else(|| "— (detached)".to_owned())
    };
    let (views, listing) = Listing::page("/exports", &search, views, |view| {
        format!("{} {}", view.name, connection_of(view))
    });
    let mut rows = Vec::new();
    for view in views {
        let connection = connection_of(&view);
        let schedule: RefreshSchedule = view
            .schedule_override
            .clone()
            .unwrap_or_else(|| system.clone());
        let schedule = match (
            &view.schedule_override,
            schedule.next_after(chrono::Utc::now()),
        ) {
            (None, Some(next)) => format!("system, next {}", when(next)),
            (None, None) => "system (off)".to_owned(),
            (Some(_), Some(next)) => format!("own, next {}", when(next)),
            (Some(_), None) => "own (off)".to_owned(),
        };
        let run = latest.get(&view.id);
        let you_may = [
            ("edit", view.you_may.edit),
            ("run", view.you_may.run),
            ("duplicate", view.you_may.duplicate),
            ("detach", view.you_may.detach),
            ("remove", view.you_may.remove),
        ]
        .into_iter()
        .filter_map(|(what, may)| may.then_some(what))
        .collect();
        rows.push(ExportRow {
            id: view.id,
            name: view.name,
            connection,
            list_id: view.list_id.to_string(),
            segments: view
                .segment_ids
                .iter()
                .filter_map(|id| segments.get(id).cloned())
                .collect::<Vec<_>>()
                .join(", "),
            schedule,
            last_status: run.map(|run| run.status.as_str().to_owned()),
            last_when: run.map(|run| when(run.finished_at.unwrap_or(run.queued_at))),
            you_may,
        });
    }
    Ok(ExportsPage {
        nav: Nav::new(visitor, "exports"),
        rows,
        listing,
        any,
        may_edit: visitor.may_edit(),
        notice: notice.notice,
    })
}
