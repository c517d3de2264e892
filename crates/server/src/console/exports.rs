//! Data › Exports: the list with search, the export form (connection, name, List ID, data
//! matching, segments with member counts, schedule override), and the actions — Run, Run all,
//! Duplicate, Detach, Remove — each through the API's own handler.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use segsync_domain::schedule::RefreshSchedule;
use segsync_export::SyncMode;
use segsync_store::{Role, Run, RunFilter, UsableBy};
use serde::Deserialize;
use uuid::Uuid;

use super::fields::Fields;
use super::page::{Nav, Problems, act, failure, invalid, render};
use super::schedule_form::{self, ScheduleFields};
use super::visitor::Visitor;
use crate::error::ApiError;
use crate::routes::connections::may_use;
use crate::routes::exports::{self, ExportForm, ExportView};
use crate::routes::paging::PageQuery;
use crate::routes::runs;
use crate::segments::{member_counts, profiles};
use crate::state::AppState;
use segsync_runs::schedule::system_schedule;

/// Constant Contact's contact fields that data matching may fill, besides the email.
const CONTACT_FIELDS: [(&str, &str); 16] = [
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("job_title", "Job title"),
    ("company_name", "Company name"),
    ("phone", "Phone"),
    ("home_phone", "Home phone"),
    ("work_phone", "Work phone"),
    ("mobile_phone", "Mobile phone"),
    ("street", "Street"),
    ("street2", "Street, line 2"),
    ("city", "City"),
    ("state", "State"),
    ("zip", "ZIP code"),
    ("country", "Country"),
    ("birthday", "Birthday"),
    ("anniversary", "Anniversary"),
];

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
    query: String,
    may_edit: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Search {
    q: Option<String>,
    notice: Option<String>,
}

fn when(time: chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(crate) async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(search): Query<Search>,
) -> Response {
    match list_page(&state, &visitor, search).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

async fn list_page(
    state: &AppState,
    visitor: &Visitor,
    search: Search,
) -> Result<ExportsPage, ApiError> {
    let views = exports::list(
        State(state.clone()),
        visitor.caller.clone(),
        Query(PageQuery::everything()),
    )
    .await?
    .items;
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
    let query = search.q.unwrap_or_default();
    let needle = query.trim().to_lowercase();
    let mut rows = Vec::new();
    for view in views {
        let connection = view
            .connection_id
            .and_then(|id| connections.get(&id).cloned())
            .unwrap_or_else(|| "— (detached)".to_owned());
        if !needle.is_empty()
            && !view.name.to_lowercase().contains(&needle)
            && !connection.to_lowercase().contains(&needle)
        {
            continue;
        }
        let schedule: RefreshSchedule = view
            .schedule_override
            .as_ref()
            .and_then(|value| serde_json::from_value(value.clone()).ok())
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
        query,
        may_edit: visitor.may_edit(),
        notice: search.notice,
    })
}

/// A row of data matching: a Constant Contact field and the attribute that fills it.
struct MatchRow {
    field: String,
    attribute: String,
}

struct SegmentChoice {
    id: Uuid,
    name: String,
    members: Option<u64>,
    chosen: bool,
    active: bool,
}

struct ConnectionChoice {
    id: Uuid,
    name: String,
}

struct ListChoice {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/export_form.html")]
struct ExportFormPage {
    nav: Nav,
    /// None for a new export.
    id: Option<Uuid>,
    name: String,
    connections: Vec<ConnectionChoice>,
    connection_id: String,
    lists: Vec<ListChoice>,
    list_id: String,
    attributes: Vec<String>,
    email: String,
    rows: Vec<MatchRow>,
    contact_fields: Vec<(&'static str, &'static str)>,
    segments: Vec<SegmentChoice>,
    member_limit: u64,
    chosen_members: u64,
    schedule: ScheduleFields,
    sync_mode: String,
    problems: Problems,
    /// Of an existing export: what the visitor may do, and its runs.
    you_may_run: bool,
    you_may_edit: bool,
    you_may_detach: bool,
    you_may_remove: bool,
    runs: Vec<Run>,
}

impl ExportFormPage {
    fn over_limit(&self) -> bool {
        self.chosen_members > self.member_limit
    }
}

/// What the form holds, whether from a stored export or as submitted.
struct Draft {
    name: String,
    connection_id: String,
    list_id: String,
    email: String,
    rows: Vec<MatchRow>,
    segment_ids: Vec<Uuid>,
    schedule: ScheduleFields,
    sync_mode: String,
}

impl Draft {
    fn empty() -> Self {
        Self {
            name: String::new(),
            connection_id: String::new(),
            list_id: String::new(),
            email: String::new(),
            rows: vec![
                MatchRow {
                    field: "first_name".to_owned(),
                    attribute: String::new(),
                },
                MatchRow {
                    field: "last_name".to_owned(),
                    attribute: String::new(),
                },
            ],
            segment_ids: Vec::new(),
            schedule: ScheduleFields::of(None, true),
            sync_mode: SyncMode::default().as_str().to_owned(),
        }
    }

    fn of(view: &ExportView) -> Self {
        let mapping: Vec<(String, String)> = view
            .mapping
            .as_object()
            .map(|mapping| {
                mapping
                    .iter()
                    .map(|(field, attribute)| {
                        (
                            field.clone(),
                            attribute.as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let schedule = view
            .schedule_override
            .as_ref()
            .and_then(|value| serde_json::from_value(value.clone()).ok());
        Self {
            name: view.name.clone(),
            connection_id: view
                .connection_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            list_id: view.list_id.to_string(),
            email: mapping
                .iter()
                .find(|(field, _)| field == "email")
                .map(|(_, attribute)| attribute.clone())
                .unwrap_or_default(),
            rows: mapping
                .into_iter()
                .filter(|(field, _)| field != "email")
                .map(|(field, attribute)| MatchRow { field, attribute })
                .chain(std::iter::once(MatchRow {
                    field: String::new(),
                    attribute: String::new(),
                }))
                .collect(),
            segment_ids: view.segment_ids.clone(),
            schedule: ScheduleFields::of(schedule.as_ref(), true),
            sync_mode: view.sync_mode.as_str().to_owned(),
        }
    }

    fn submitted(fields: &Fields) -> Self {
        let mut rows = Vec::new();
        let mut index = 0;
        while fields.has(&format!("field.{index}")) {
            rows.push(MatchRow {
                field: fields.get(&format!("field.{index}")).to_owned(),
                attribute: fields.get(&format!("attribute.{index}")).to_owned(),
            });
            index += 1;
        }
        Self {
            name: fields.get("name").to_owned(),
            connection_id: fields.get("connection_id").to_owned(),
            list_id: fields.get("list_id").trim().to_owned(),
            email: fields.get("email").to_owned(),
            rows,
            segment_ids: fields
                .all("segment")
                .into_iter()
                .filter_map(|id| id.parse().ok())
                .collect(),
            schedule: ScheduleFields::as_typed(fields, true),
            sync_mode: fields.get("sync_mode").to_owned(),
        }
    }

    /// The API's form, or the problems that stop it being one.
    fn form(&self, fields: &Fields) -> Result<ExportForm, Problems> {
        let mut problems = Problems::default();
        let connection_id = self.connection_id.parse().map_err(|_| {
            problems.at("connection_id", "choose a connection");
        });
        let list_id = self.list_id.parse().map_err(|_| {
            problems.at(
                "list_id",
                "a List ID looks like 8-4-4-4-12 hexadecimal digits",
            );
        });
        let schedule_override = schedule_form::read(fields).map_err(|problem| {
            problems.at("schedule_override", problem);
        });
        let sync_mode = self.sync_mode.parse::<SyncMode>().map_err(|problem| {
            problems.at("sync_mode", problem);
        });
        let (Ok(connection_id), Ok(list_id), Ok(schedule_override), Ok(sync_mode)) =
            (connection_id, list_id, schedule_override, sync_mode)
        else {
            return Err(problems);
        };
        let mut mapping = std::collections::BTreeMap::new();
        if !self.email.is_empty() {
            mapping.insert("email".to_owned(), self.email.clone());
        }
        for row in &self.rows {
            if !row.field.is_empty() && !row.attribute.is_empty() {
                mapping.insert(row.field.clone(), row.attribute.clone());
            }
        }
        Ok(ExportForm {
            name: self.name.clone(),
            connection_id,
            list_id,
            mapping,
            segment_ids: self.segment_ids.clone(),
            schedule_override,
            sync_mode,
        })
    }
}

async fn form_page(
    state: &AppState,
    visitor: &Visitor,
    id: Option<Uuid>,
    draft: Draft,
    problems: Problems,
) -> Result<ExportFormPage, ApiError> {
    let usable: Vec<_> = state
        .store
        .connections()
        .await?
        .into_iter()
        .filter(|connection| may_use(&visitor.caller, connection))
        .filter(|connection| {
            visitor.is_admin() || connection.usable_by == UsableBy::AdminsAndContributors
        })
        .collect();
    let connection_id = if draft.connection_id.is_empty() && usable.len() == 1 {
        usable[0].id.to_string()
    } else {
        draft.connection_id.clone()
    };
    let mut lists = Vec::new();
    if let Some(connection) = usable
        .iter()
        .find(|connection| connection.id.to_string() == connection_id)
        && let Ok(Json(found)) = crate::routes::connections::lists(
            State(state.clone()),
            visitor.caller.clone(),
            Path(connection.id),
        )
        .await
    {
        lists = found
            .into_iter()
            .map(|list| ListChoice {
                id: list.list_id.to_string(),
                name: list.name,
            })
            .collect();
    }
    let attributes = match profiles(state).await {
        Ok(profiles) => profiles
            .schema()
            .attributes()
            .iter()
            .map(|attribute| attribute.name.clone())
            .collect(),
        Err(_) => Vec::new(),
    };
    let counts = member_counts(state).await.unwrap_or_default();
    let segments: Vec<SegmentChoice> = state
        .store
        .segments()
        .await?
        .into_iter()
        .map(|segment| SegmentChoice {
            id: segment.id,
            members: counts.get(&segment.id).copied(),
            chosen: draft.segment_ids.contains(&segment.id),
            active: segment.active,
            name: segment.name,
        })
        .collect();
    let chosen_members = segments
        .iter()
        .filter(|segment| segment.chosen)
        .filter_map(|segment| segment.members)
        .sum();
    let (mut you_may_run, mut you_may_edit, mut you_may_detach, mut you_may_remove) =
        (false, visitor.may_edit(), false, false);
    let mut runs = Vec::new();
    if let Some(id) = id {
        let Json(view) =
            exports::get(State(state.clone()), visitor.caller.clone(), Path(id)).await?;
        you_may_run = view.you_may.run;
        you_may_edit = view.you_may.edit;
        you_may_detach = view.you_may.detach;
        you_may_remove = view.you_may.remove;
        runs = state
            .store
            .runs(
                &RunFilter {
                    export_id: Some(id),
                    ..RunFilter::default()
                },
                20,
                0,
            )
            .await?;
    }
    Ok(ExportFormPage {
        nav: Nav::new(visitor, "exports"),
        id,
        name: draft.name,
        connections: usable
            .into_iter()
            .map(|connection| ConnectionChoice {
                id: connection.id,
                name: connection.name,
            })
            .collect(),
        connection_id,
        lists,
        list_id: draft.list_id,
        attributes,
        email: draft.email,
        rows: draft.rows,
        contact_fields: CONTACT_FIELDS.to_vec(),
        segments,
        member_limit: state.config.member_limit,
        chosen_members,
        schedule: draft.schedule,
        sync_mode: draft.sync_mode,
        problems,
        you_may_run,
        you_may_edit,
        you_may_detach,
        you_may_remove,
        runs,
    })
}

pub(crate) async fn new(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.may_edit() {
        return failure(ApiError::forbidden("configure exports"));
    }
    match form_page(&state, &visitor, None, Draft::empty(), Problems::default()).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
) -> Response {
    let view = match exports::get(State(state.clone()), visitor.caller.clone(), Path(id)).await {
        Ok(Json(view)) => view,
        Err(error) => return failure(error),
    };
    match form_page(
        &state,
        &visitor,
        Some(id),
        Draft::of(&view),
        Problems::default(),
    )
    .await
    {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

/// Saves a new export (`id` none) or changes one. "Add attribute" without JavaScript comes
/// here too and shows the form again with one more row. Saving never runs the export.
async fn save(state: AppState, visitor: Visitor, id: Option<Uuid>, fields: Fields) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    if let Err(error) = visitor
        .caller
        .require(Role::Contributor, "configure exports")
    {
        return failure(error);
    }
    let mut draft = Draft::submitted(&fields);
    let again = |draft: Draft, problems: Problems| {
        let state = state.clone();
        let visitor = &visitor;
        async move {
            let failed = !problems.is_empty();
            match form_page(&state, visitor, id, draft, problems).await {
                Ok(page) if failed => invalid(&page),
                Ok(page) => render(&page),
                Err(error) => failure(error),
            }
        }
    };
    if fields.has("add_row") || fields.has("refresh") {
        if fields.has("add_row") {
            draft.rows.push(MatchRow {
                field: String::new(),
                attribute: String::new(),
            });
        }
        return again(draft, Problems::default()).await;
    }
    let form = match draft.form(&fields) {
        Ok(form) => form,
        Err(problems) => return again(draft, problems).await,
    };
    let saved = match id {
        None => exports::create(State(state.clone()), visitor.caller.clone(), Json(form))
            .await
            .map(|(_, Json(view))| view),
        Some(id) => exports::update(
            State(state.clone()),
            visitor.caller.clone(),
            Path(id),
            Json(form),
        )
        .await
        .map(|Json(view)| view),
    };
    match saved {
        Ok(view) => Redirect::to(&format!("/exports/{}?saved=1", view.id)).into_response(),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            again(draft, Problems::from_error(&error)).await
        }
        Err(error) => failure(error),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    save(state, visitor, None, fields).await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    save(state, visitor, Some(id), fields).await
}

/// Runs the export now and shows its run.
pub(crate) async fn run(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let options = runs::RunOptions {
        full_resync: fields.get("full_resync") == "1",
    };
    match runs::run_now(
        State(state),
        visitor.caller.clone(),
        Path(id),
        Query(options),
    )
    .await
    {
        Ok((_, Json(run))) => Redirect::to(&format!("/runs/{}", run.id)).into_response(),
        Err(error) if error.code == "run_in_progress" => {
            let running = error
                .details
                .as_ref()
                .and_then(|details| details["run_id"].as_str())
                .unwrap_or_default()
                .to_owned();
            Redirect::to(&format!("/runs/{running}?already=1")).into_response()
        }
        Err(error) => failure(error),
    }
}

pub(crate) async fn run_all(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        runs::run_all(State(state), visitor.caller.clone()),
        |(_, Json(answer))| {
            let notice = format!(
                "Run all: {} queued, {} skipped",
                answer.queued.len(),
                answer.skipped.len()
            );
            let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
            format!("/status?notice={notice}")
        },
    )
    .await
}

pub(crate) async fn duplicate(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        exports::duplicate(State(state), visitor.caller.clone(), Path(id)),
        |(_, Json(copy))| format!("/exports/{}", copy.id),
    )
    .await
}

pub(crate) async fn detach(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        exports::detach(State(state), visitor.caller.clone(), Path(id)),
        |_| format!("/exports/{id}"),
    )
    .await
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        exports::remove(State(state), visitor.caller.clone(), Path(id)),
        |_| "/exports?notice=Export%20removed".to_owned(),
    )
    .await
}

#[derive(Template)]
#[template(path = "console/dry_run.html")]
struct DryRunPage {
    nav: Nav,
    id: Uuid,
    name: String,
    report: segsync_export::DryRunReport,
}

/// Shows what a run would do, sending nothing.
pub(crate) async fn dry_run(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let name = match state.store.export(id).await {
        Ok(export) => export.name,
        Err(error) => return failure(error.into()),
    };
    let options = runs::RunOptions {
        full_resync: fields.get("full_resync") == "1",
    };
    match runs::dry_run(
        State(state),
        visitor.caller.clone(),
        Path(id),
        Query(options),
    )
    .await
    {
        Ok(Json(report)) => render(&DryRunPage {
            nav: Nav::new(&visitor, "exports"),
            id,
            name,
            report,
        }),
        Err(error) => failure(error),
    }
}
