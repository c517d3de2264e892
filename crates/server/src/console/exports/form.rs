//! The export form (connection, name, List ID, data matching, segments with member counts,
//! schedule override, sync mode), and saving it: a new export or changes to one.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use segsync_store::{Run, RunFilter, UsableBy};
use uuid::Uuid;

use crate::console::charts::history::RUNS_SHOWN;
use crate::console::charts::{self, Chart};
use crate::console::fields::Fields;
use crate::console::page::{Nav, Problems, failure, invalid, render};
use crate::console::schedule_form::ScheduleFields;
use crate::console::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use segsync_app::segments::SegmentCount;

use super::draft::{Draft, MatchRow};

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
    /// Import key and label: the standard fields, then the account's custom fields.
    contact_fields: Vec<(String, String)>,
    segments: Vec<SegmentChoice>,
    member_limit: u64,
    chosen_members: u64,
    schedule: ScheduleFields,
    sync_mode: String,
    max_removal_percent: String,
    max_member_drop_percent: String,
    verify: String,
    problems: Problems,
    /// Of an existing export: what the visitor may do, and its runs.
    you_may_run: bool,
    you_may_edit: bool,
    you_may_detach: bool,
    you_may_remove: bool,
    runs: Vec<Run>,
    /// The runs as pictures, once one has ended.
    charts: Vec<Chart>,
}

impl ExportFormPage {
    fn over_limit(&self) -> bool {
        self.chosen_members > self.member_limit
    }
}

async fn form_page(
    state: &AppState,
    visitor: &Visitor,
    id: Option<Uuid>,
    draft: Draft,
    problems: Problems,
) -> Result<ExportFormPage, AppError> {
    let usable: Vec<_> = state
        .store
        .connections()
        .await?
        .into_iter()
        .filter(|connection| visitor.caller.may_use(connection))
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
        && let Ok(found) = state
            .app
            .connections(&visitor.caller)
            .lists(connection.id)
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
    let mut contact_fields: Vec<(String, String)> = constant_contact::fields::CONTACT_FIELDS
        .iter()
        .map(|field| (field.key.to_owned(), field.label.to_owned()))
        .collect();
    if let Some(connection) = usable
        .iter()
        .find(|connection| connection.id.to_string() == connection_id)
        && let Ok(custom) = state
            .app
            .connections(&visitor.caller)
            .custom_fields(connection.id)
            .await
    {
        contact_fields.extend(
            custom
                .into_iter()
                .map(|field| (field.key, format!("{} (custom field)", field.label))),
        );
    }
    // A field the draft names that the account no longer has stays visible, so that saving
    // explains what is wrong rather than dropping it.
    for row in &draft.rows {
        if !row.field.is_empty() && !contact_fields.iter().any(|(key, _)| *key == row.field) {
            contact_fields.push((row.field.clone(), row.field.clone()));
        }
    }
    let attributes = match state.app.profiles().await {
        Ok(profiles) => profiles
            .schema()
            .attributes()
            .iter()
            .map(|attribute| attribute.name.clone())
            .collect(),
        Err(_) => Vec::new(),
    };
    let counts = state
        .app
        .segments(&visitor.caller)
        .member_counts()
        .await
        .unwrap_or_default();
    let segments: Vec<SegmentChoice> = state
        .store
        .segments()
        .await?
        .into_iter()
        .map(|segment| SegmentChoice {
            id: segment.id,
            members: counts.get(&segment.id).and_then(SegmentCount::members),
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
        let view = state.app.exports(&visitor.caller).get(id).await?;
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
                RUNS_SHOWN as u32,
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
        contact_fields,
        segments,
        member_limit: state.config.member_limit,
        chosen_members,
        schedule: draft.schedule,
        sync_mode: draft.sync_mode,
        max_removal_percent: draft.max_removal_percent,
        max_member_drop_percent: draft.max_member_drop_percent,
        verify: draft.verify,
        problems,
        you_may_run,
        you_may_edit,
        you_may_detach,
        you_may_remove,
        charts: charts::history::charts(&runs),
        runs,
    })
}

pub(crate) async fn new(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.may_edit() {
        return failure(AppError::forbidden("configure exports"));
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
    let view = match state.app.exports(&visitor.caller).get(id).await {
        Ok(view) => view,
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
    if let Err(error) = visitor.caller.contributor("configure exports") {
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
    let saved = async {
        let changes = state
            .app
            .export_changes(&visitor.caller, "configure exports")?;
        match id {
            None => changes.create(&form).await,
            Some(id) => changes.update(id, &form).await,
        }
    };
    let saved = saved.await;
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
