//! Segments: the list with member counts, the builder for rule trees (or JSON for rules the
//! builder cannot show), validation problems at their rule, preview, activate and deactivate.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use segsync_domain::ProfileSchema;
use segsync_store::Role;
use uuid::Uuid;

use super::fields::Fields;
use super::page::{Nav, Problems, act, failure, invalid, render};
use super::rule_tree::{self, AGGREGATES, COUNT_BOUNDS, OPERATORS, Row, WINDOWS};
use super::visitor::Visitor;
use crate::error::ApiError;
use crate::routes::paging::PageQuery;
use crate::routes::segments::{self, Preview, SegmentView};
use crate::segments::{SegmentBody, member_counts, profiles};
use crate::state::AppState;

struct SegmentRow {
    id: Uuid,
    name: String,
    description: String,
    members: Option<u64>,
    active: bool,
}

#[derive(Template)]
#[template(path = "console/segments.html")]
struct SegmentsPage {
    nav: Nav,
    segments: Vec<SegmentRow>,
    may_edit: bool,
}

pub(crate) async fn list(State(state): State<AppState>, visitor: Visitor) -> Response {
    let views = match segments::list(
        State(state.clone()),
        visitor.caller.clone(),
        axum::extract::Query(PageQuery::everything()),
    )
    .await
    {
        Ok(page) => page.items,
        Err(error) => return failure(error),
    };
    let counts = member_counts(&state).await.unwrap_or_default();
    render(&SegmentsPage {
        nav: Nav::new(&visitor, "segments"),
        segments: views
            .into_iter()
            .map(|view| SegmentRow {
                members: counts.get(&view.id).copied(),
                id: view.id,
                name: view.body.name,
                description: view.body.description.unwrap_or_default(),
                active: view.active,
            })
            .collect(),
        may_edit: visitor.may_edit(),
    })
}

#[derive(Template)]
#[template(path = "console/segment_form.html")]
struct SegmentPage {
    nav: Nav,
    id: Option<Uuid>,
    name: String,
    description: String,
    active: bool,
    /// The builder's rows, or none when the rule is edited as JSON.
    rows: Option<Vec<Row>>,
    rule_json: String,
    attributes: Vec<String>,
    /// The related tables segments may test, each with its columns.
    related: Vec<RelatedTableChoice>,
    operators: Vec<(&'static str, &'static str)>,
    count_bounds: Vec<(&'static str, &'static str)>,
    aggregates: Vec<(&'static str, &'static str)>,
    windows: Vec<(&'static str, &'static str)>,
    problems: Problems,
    preview: Option<Preview>,
    columns: Vec<String>,
    may_edit: bool,
}

/// A related table as the builder offers it.
struct RelatedTableChoice {
    name: String,
    columns: Vec<String>,
    /// Whether its rows are dated, so that a window can test them.
    dated: bool,
}

impl SegmentPage {
    /// The attributes a condition row may test: the profiles', or inside a "has" or
    /// "measure" row the related table's columns.
    fn attributes_for(&self, row: &Row) -> &[String] {
        match &row.scope {
            None => &self.attributes,
            Some(table) => self.columns_of(table),
        }
    }

    /// The columns of a related table (none for a table that is not configured).
    fn columns_of(&self, table: &str) -> &[String] {
        self.related
            .iter()
            .find(|related| related.name == table)
            .map_or(&[], |related| related.columns.as_slice())
    }

    /// Whether the builder's row at `index` has rows nested below it (the template passes
    /// its loop index by reference).
    fn has_rules_below(&self, index: &usize) -> bool {
        let index = *index;
        let rows = self.rows.as_deref().unwrap_or_default();
        match (rows.get(index), rows.get(index + 1)) {
            (Some(row), Some(next)) => next.depth > row.depth,
            _ => false,
        }
    }

    /// Whether a related table's rows are dated.
    fn is_dated(&self, table: &str) -> bool {
        self.related
            .iter()
            .any(|related| related.name == table && related.dated)
    }
}

async fn schema(state: &AppState) -> ProfileSchema {
    match profiles(state).await {
        Ok(profiles) => profiles.schema(),
        Err(_) => ProfileSchema::default(),
    }
}

async fn segment_page(
    state: &AppState,
    visitor: &Visitor,
    id: Option<Uuid>,
    body: SegmentBody,
    rows: Option<Vec<Row>>,
    problems: Problems,
) -> SegmentPage {
    let schema = schema(state).await;
    let mut active = true;
    let mut preview = None;
    if let Some(id) = id {
        if let Ok(Json(view)) =
            segments::get(State(state.clone()), visitor.caller.clone(), Path(id)).await
        {
            active = view.active;
        }
        if problems.is_empty()
            && let Ok(Json(found)) =
                segments::preview(State(state.clone()), visitor.caller.clone(), Path(id)).await
        {
            preview = Some(found);
        }
    }
    let columns = preview
        .as_ref()
        .and_then(|preview| preview.sample.first())
        .map(|row| row.keys().cloned().collect())
        .unwrap_or_default();
    SegmentPage {
        nav: Nav::new(visitor, "segments"),
        id,
        name: body.name,
        description: body.description.unwrap_or_default(),
        active,
        rule_json: serde_json::to_string_pretty(&body.rule).unwrap_or_default(),
        rows,
        attributes: schema
            .attributes()
            .iter()
            .map(|attribute| attribute.name.clone())
            .collect(),
        related: schema
            .related_tables()
            .iter()
            .map(|table| RelatedTableChoice {
                name: table.name.clone(),
                columns: table
                    .columns
                    .attributes()
                    .iter()
                    .map(|column| column.name.clone())
                    .collect(),
                dated: table.dated_by.is_some(),
            })
            .collect(),
        operators: OPERATORS.to_vec(),
        count_bounds: COUNT_BOUNDS.to_vec(),
        aggregates: AGGREGATES.to_vec(),
        windows: WINDOWS.to_vec(),
        problems,
        preview,
        columns,
        may_edit: visitor.may_edit(),
    }
}

fn rows_for(rule: &serde_json::Value) -> Option<Vec<Row>> {
    rule_tree::rows_of(rule).ok()
}

pub(crate) async fn new(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.may_edit() {
        return failure(ApiError::forbidden("create segments"));
    }
    let rule = serde_json::json!({ "all": [{ "attribute": "", "op": "equals", "value": "" }] });
    let body = SegmentBody {
        name: String::new(),
        description: None,
        rule,
    };
    let rows = rows_for(&body.rule);
    render(&segment_page(&state, &visitor, None, body, rows, Problems::default()).await)
}

pub(crate) async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
) -> Response {
    let view: SegmentView =
        match segments::get(State(state.clone()), visitor.caller.clone(), Path(id)).await {
            Ok(Json(view)) => view,
            Err(error) => return failure(error),
        };
    let rows = rows_for(&view.body.rule);
    render(
        &segment_page(
            &state,
            &visitor,
            Some(id),
            view.body,
            rows,
            Problems::default(),
        )
        .await,
    )
}

/// Saves the segment, or applies a builder button and shows the form again.
async fn save(state: AppState, visitor: Visitor, id: Option<Uuid>, fields: Fields) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    if let Err(error) = visitor.caller.require(Role::Contributor, "change segments") {
        return failure(error);
    }
    let schema = schema(&state).await;
    let as_json = fields.get("editor") == "json";
    let mut problems = Problems::default();
    let mut rows = match (!as_json).then(|| rule_tree::rows_submitted(&fields)) {
        None => None,
        Some(Ok(rows)) => Some(rows),
        Some(Err(too_big)) => {
            problems.at("rule", too_big.to_string());
            let body = SegmentBody {
                name: fields.get("name").trim().to_owned(),
                description: fields.text("description"),
                rule: serde_json::Value::Null,
            };
            return invalid(&segment_page(&state, &visitor, id, body, None, problems).await);
        }
    };
    let rule = match &rows {
        Some(rows) => rule_tree::rule_of(rows, &schema),
        None => match serde_json::from_str(fields.get("rule_json")) {
            Ok(rule) => rule,
            Err(error) => {
                problems.at("rule", format!("the rule is not JSON: {error}"));
                serde_json::Value::Null
            }
        },
    };
    let body = SegmentBody {
        name: fields.get("name").trim().to_owned(),
        description: fields.text("description"),
        rule,
    };
    let action = fields.get("action");
    if let Some(rows) = rows.as_mut()
        && !action.is_empty()
        && action != "save"
    {
        let first_table = schema
            .related_tables()
            .first()
            .map_or("", |table| table.name.as_str());
        rule_tree::apply(rows, action, first_table);
        let body = SegmentBody {
            rule: rule_tree::rule_of(rows, &schema),
            ..body
        };
        return render(
            &segment_page(&state, &visitor, id, body, Some(rows.clone()), problems).await,
        );
    }
    if !problems.is_empty() {
        return invalid(&segment_page(&state, &visitor, id, body, rows, problems).await);
    }
    let saved = match id {
        None => segments::create(
            State(state.clone()),
            visitor.caller.clone(),
            Json(body.clone()),
        )
        .await
        .map(|(_, Json(view))| view.id),
        Some(id) => segments::update(
            State(state.clone()),
            visitor.caller.clone(),
            Path(id),
            Json(body.clone()),
        )
        .await
        .map(|Json(view)| view.id),
    };
    match saved {
        Ok(saved) => Redirect::to(&format!("/segments/{saved}")).into_response(),
        Err(error)
            if error.code == "invalid_segment"
                || error.code == "invalid"
                || error.code == "conflict" =>
        {
            let found: Vec<(String, String)> = error
                .details
                .as_ref()
                .and_then(|details| details["errors"].as_array())
                .map(|errors| {
                    errors
                        .iter()
                        .map(|error| {
                            (
                                error["path"].as_str().unwrap_or_default().to_owned(),
                                error["problem"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut problems = Problems::default();
            if found.is_empty() {
                problems = Problems::from_error(&error);
            }
            let mut unplaced = Vec::new();
            for (path, problem) in found {
                if path == "name" {
                    problems.at("name", problem);
                } else {
                    unplaced.push((path, problem));
                }
            }
            match rows.as_mut() {
                Some(rows) => {
                    for problem in rule_tree::place(rows, unplaced) {
                        problems.general.push(problem);
                    }
                }
                None => {
                    for (path, problem) in unplaced {
                        problems.general.push(format!("{path}: {problem}"));
                    }
                }
            }
            invalid(&segment_page(&state, &visitor, id, body, rows, problems).await)
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

pub(crate) async fn set_active(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    let caller = visitor.caller.clone();
    let activate = fields.get("active") == "true";
    let change = async move {
        if activate {
            segments::activate(State(state), caller, Path(id)).await
        } else {
            segments::deactivate(State(state), caller, Path(id)).await
        }
    };
    act(&visitor, &fields, change, |_| format!("/segments/{id}")).await
}
