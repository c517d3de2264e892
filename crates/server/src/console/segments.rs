//! Segments: the list with member counts, the builder for rule trees (or JSON for rules the
//! builder cannot show), validation problems at their rule, preview, activate and deactivate.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use segsync_domain::segment::{Aggregate, measure_type};
use segsync_domain::{AttributeType, ProfileSchema};
use segsync_engine::CommonValue;
use uuid::Uuid;

use super::fields::Fields;
use super::listing::{ListQuery, Listing};
use super::page::{Nav, Problems, act, failure, invalid, render};
use super::rule_tree::{self, AGGREGATES, COUNT_BOUNDS, Row, WINDOWS};
use super::value_inputs::{PERIOD_UNITS, ValueInput, operators_for};
use super::visitor::Visitor;
use crate::error::{AppError, Code};
use crate::state::AppState;
use segsync_app::segments::{Preview, SegmentBody, SegmentCount, SegmentView};

struct SegmentRow {
    id: Uuid,
    name: String,
    description: String,
    members: Option<u64>,
    /// Why the stored segment no longer validates against the profiles.
    problem: Option<String>,
    active: bool,
}

#[derive(Template)]
#[template(path = "console/segments.html")]
struct SegmentsPage {
    nav: Nav,
    segments: Vec<SegmentRow>,
    listing: Listing,
    may_edit: bool,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
) -> Response {
    let segments = state.app.segments(&visitor.caller);
    let views = match segments.all().await {
        Ok(views) => views,
        Err(error) => return failure(error),
    };
    let (views, listing) = Listing::page("/segments", &query, views, |view| {
        format!(
            "{} {}",
            view.body.name,
            view.body.description.as_deref().unwrap_or_default()
        )
    });
    let counts = segments.member_counts().await.unwrap_or_default();
    render(&SegmentsPage {
        nav: Nav::new(&visitor, "segments"),
        segments: views
            .into_iter()
            .map(|view| SegmentRow {
                members: counts.get(&view.id).and_then(SegmentCount::members),
                problem: counts
                    .get(&view.id)
                    .and_then(SegmentCount::problem)
                    .map(str::to_owned),
                id: view.id,
                name: view.body.name,
                description: view.body.description.unwrap_or_default(),
                active: view.active,
            })
            .collect(),
        listing,
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
    count_bounds: Vec<(&'static str, &'static str)>,
    aggregates: Vec<(&'static str, &'static str)>,
    windows: Vec<(&'static str, &'static str)>,
    problems: Problems,
    preview: Option<Preview>,
    columns: Vec<String>,
    may_edit: bool,
    /// What the profiles say: each attribute's type, and the related tables' columns.
    schema: ProfileSchema,
    /// The most common values of each attribute an "is one of" row tests.
    common: Vec<(String, Vec<CommonValue>)>,
    /// The members of the rule as it stands, when the form was checked and it is valid.
    live_count: Option<u64>,
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

    /// The type of what a condition row tests: a profile attribute, or inside a related row
    /// a column of its table.
    fn kind_of(&self, row: &Row) -> Option<AttributeType> {
        match &row.scope {
            None => self.schema.get(&row.attribute),
            Some(table) => self.schema.related(table)?.columns.get(&row.attribute),
        }
        .map(|attribute| attribute.kind)
    }

    /// The type of what a "measure" row compares: a count, or the measured column's type.
    fn measured_kind(&self, row: &Row) -> Option<AttributeType> {
        let aggregate = Aggregate::from_name(&row.aggregate)?;
        let column = self
            .schema
            .related(&row.table)
            .and_then(|table| table.columns.get(&row.of))
            .map(|column| column.kind);
        measure_type(aggregate, column)
    }

    /// The operators a row offers: those that suit what it tests.
    fn operators_of(&self, row: &Row) -> Vec<(&'static str, &'static str)> {
        let kind = if row.kind == "measure" {
            self.measured_kind(row)
        } else {
            self.kind_of(row)
        };
        operators_for(kind, &row.op)
    }

    /// How a condition or "measure" row asks for its values.
    fn input_of(&self, row: &Row) -> ValueInput {
        let kind = if row.kind == "measure" {
            self.measured_kind(row)
        } else {
            self.kind_of(row)
        };
        let has_choices = !self.choices_of(row).is_empty();
        ValueInput::of(&row.op, kind, [&row.value, &row.value2], has_choices)
    }

    /// How a related row asks for its window's dates.
    fn window_input_of(&self, row: &Row) -> ValueInput {
        ValueInput::of(
            &row.window_op,
            Some(AttributeType::Date),
            [&row.window_value, &row.window_value2],
            false,
        )
    }

    /// The units a period takes.
    fn units(&self) -> &'static [&'static str] {
        &PERIOD_UNITS
    }

    /// The common values a condition row may choose from (profile attributes only).
    fn choices_of(&self, row: &Row) -> &[CommonValue] {
        if row.scope.is_some() || row.kind != "condition" {
            return &[];
        }
        self.common
            .iter()
            .find(|(attribute, _)| *attribute == row.attribute)
            .map_or(&[], |(_, values)| values.as_slice())
    }

    /// Whether a related table's rows are dated.
    fn is_dated(&self, table: &str) -> bool {
        self.related
            .iter()
            .any(|related| related.name == table && related.dated)
    }
}

async fn schema(state: &AppState) -> ProfileSchema {
    match state.app.profiles().await {
        Ok(profiles) => profiles.schema(),
        Err(_) => ProfileSchema::default(),
    }
}

/// The common values of each attribute an "is one of" row of `rows` tests, and each such
/// row's typed values that are among them moved to its chosen ones. Profiles that cannot be
/// read leave the rows as they are, to be typed.
async fn common_values(
    state: &AppState,
    visitor: &Visitor,
    schema: &ProfileSchema,
    rows: Option<&mut Vec<Row>>,
) -> Vec<(String, Vec<CommonValue>)> {
    let Some(rows) = rows else {
        return Vec::new();
    };
    let wanted: Vec<String> = rows
        .iter()
        .filter(|row| row.kind == "condition" && row.scope.is_none())
        .filter(|row| row.op == "in" || row.op == "not_in")
        .filter(|row| {
            schema.get(&row.attribute).is_some_and(|attribute| {
                matches!(attribute.kind, AttributeType::Text | AttributeType::Integer)
            })
        })
        .map(|row| row.attribute.clone())
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let common = state
        .app
        .segments(&visitor.caller)
        .common_values(&wanted)
        .await;
    for row in rows.iter_mut() {
        let Some((_, values)) = common
            .iter()
            .find(|(attribute, _)| *attribute == row.attribute)
        else {
            continue;
        };
        if row.scope.is_some() || (row.op != "in" && row.op != "not_in") {
            continue;
        }
        let mut others = Vec::new();
        for typed in row
            .value
            .split(',')
            .map(str::trim)
            .filter(|typed| !typed.is_empty())
        {
            if values.iter().any(|common| common.value == typed) {
                if !row.chosen.iter().any(|chosen| chosen == typed) {
                    row.chosen.push(typed.to_owned());
                }
            } else {
                others.push(typed);
            }
        }
        row.value = others.join(", ");
    }
    common
}

async fn segment_page(
    state: &AppState,
    visitor: &Visitor,
    id: Option<Uuid>,
    body: SegmentBody,
    mut rows: Option<Vec<Row>>,
    problems: Problems,
) -> SegmentPage {
    let schema = schema(state).await;
    let common = common_values(state, visitor, &schema, rows.as_mut()).await;
    let mut active = true;
    let mut preview = None;
    if let Some(id) = id {
        let segments = state.app.segments(&visitor.caller);
        if let Ok(view) = segments.get(id).await {
            active = view.active;
        }
        if problems.is_empty()
            && let Ok(found) = segments.preview(id).await
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
        count_bounds: COUNT_BOUNDS.to_vec(),
        aggregates: AGGREGATES.to_vec(),
        windows: WINDOWS.to_vec(),
        problems,
        preview,
        columns,
        may_edit: visitor.may_edit(),
        schema,
        common,
        live_count: None,
    }
}

fn rows_for(rule: &serde_json::Value) -> Option<Vec<Row>> {
    rule_tree::rows_of(rule).ok()
}

pub(crate) async fn new(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.may_edit() {
        return failure(AppError::forbidden("create segments"));
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
    let view: SegmentView = match state.app.segments(&visitor.caller).get(id).await {
        Ok(view) => view,
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
    if let Err(error) = visitor.caller.contributor("change segments") {
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
    if action == "check" && problems.is_empty() {
        return check_and_count(&state, &visitor, id, body, rows).await;
    }
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
    let saved = async {
        let changes = match id {
            None => state
                .app
                .segment_changes(&visitor.caller, "create segments")?,
            Some(_) => state
                .app
                .segment_changes(&visitor.caller, "change segments")?,
        };
        match id {
            None => changes.create(&body).await,
            Some(id) => changes.update(id, &body).await,
        }
        .map(|view| view.id)
    };
    let saved = saved.await;
    match saved {
        Ok(saved) => Redirect::to(&format!("/segments/{saved}")).into_response(),
        Err(error) if is_about_the_definition(&error) => {
            let problems = place_problems(&error, rows.as_mut());
            invalid(&segment_page(&state, &visitor, id, body, rows, problems).await)
        }
        Err(error) => failure(error),
    }
}

/// Whether the API refused the definition itself (rather than failing to work).
fn is_about_the_definition(error: &AppError) -> bool {
    matches!(
        error.code,
        Code::InvalidSegment | Code::Invalid | Code::Conflict
    )
}

/// The problems of a refused definition, each placed at its builder row when there is one;
/// those no row takes are shown above the form.
fn place_problems(error: &AppError, rows: Option<&mut Vec<Row>>) -> Problems {
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
        problems = Problems::from_error(error);
    }
    let mut unplaced = Vec::new();
    for (path, problem) in found {
        if path == "name" {
            problems.at("name", problem);
        } else {
            unplaced.push((path, problem));
        }
    }
    match rows {
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
    problems
}

/// "Check and count": the rule as it stands, checked and counted without saving; problems
/// at their rows. A segment without a name yet is checked under a stand-in one.
async fn check_and_count(
    state: &AppState,
    visitor: &Visitor,
    id: Option<Uuid>,
    body: SegmentBody,
    mut rows: Option<Vec<Row>>,
) -> Response {
    let mut checked = body.clone();
    if checked.name.is_empty() {
        checked.name = "segment being written".to_owned();
    }
    match state
        .app
        .segments(&visitor.caller)
        .count_written(&checked)
        .await
    {
        Ok(members) => {
            let mut page = segment_page(state, visitor, id, body, rows, Problems::default()).await;
            page.live_count = Some(members);
            render(&page)
        }
        Err(error) if is_about_the_definition(&error) => {
            let problems = place_problems(&error, rows.as_mut());
            invalid(&segment_page(state, visitor, id, body, rows, problems).await)
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
    let activate = fields.get("active") == "true";
    let change = async {
        state
            .app
            .segment_changes(&visitor.caller, "activate or deactivate segments")?
            .set_active(id, activate)
            .await
    };
    act(&visitor, &fields, change, |_| format!("/segments/{id}")).await
}
