//! `POST /v3/activities/contact_exports` (an activity that writes contacts to a CSV file) and
//! `GET /v3/contact_exports/{file_export_id}` (the file, `text/csv`, 404 once it expired), with
//! the filters Constant Contact's Swagger file allows together and no others.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::errors;
use super::{json_body, refuse_when_queue_full};
use crate::activity_runner::{self, Job};
use crate::state::activities::ActivityKind;
use crate::state::contact_exports::{EXPORT_FIELDS, ExportRequest, NEEDS_EMAIL_ADDRESS, Selection};
use crate::state::{Inner, SandboxState};

const MAX_CONTACT_IDS: usize = 500;
const MAX_LISTS: usize = 50;
const MAX_EXCLUDED: usize = 50;
const STATUSES: &[&str] = &[
    "all",
    "active",
    "deleted",
    "not_set",
    "pending_confirmation",
    "temp_hold",
    "unsubscribed",
];

#[derive(Deserialize)]
struct ContactsExport {
    contact_ids: Option<Vec<String>>,
    list_ids: Option<Vec<String>>,
    tag_ids: Option<Vec<String>>,
    new_subscriber: Option<bool>,
    segment_id: Option<i64>,
    fields: Option<Vec<String>>,
    status: Option<String>,
    exclude: Option<Exclude>,
}

#[derive(Deserialize)]
struct Exclude {
    contact_ids: Option<Vec<String>>,
}

pub(crate) async fn export_contacts(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: ContactsExport = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let fields = match read_fields(body.fields.as_deref()) {
        Ok(fields) => fields,
        Err(refusal) => return refusal,
    };
    let now = state.now();
    let mut inner = state.lock();
    if let Some(refusal) = refuse_when_queue_full(
        inner.activities.queued(),
        state.config().max_queued_activities,
    ) {
        return refusal;
    }
    let request = match read_request(&body, fields, &inner) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let items = request.count(&inner.contacts, now);
    let activity = inner
        .activities
        .create(ActivityKind::ContactExport, items, now);
    let (activity_id, json) = (activity.activity_id, activity.to_json());
    drop(inner);
    activity_runner::start(state.clone(), activity_id, Job::ExportContacts(request));
    (StatusCode::CREATED, Json(json)).into_response()
}

pub(crate) async fn exported_file(
    State(state): State<Arc<SandboxState>>,
    Path(file_export_id): Path<String>,
) -> Response {
    let now = state.now();
    let file = Uuid::parse_str(&file_export_id)
        .ok()
        .and_then(|id| state.lock().export_files.get(id, now));
    match file {
        Some(csv) => ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response(),
        None => errors::not_found(
            "No exported file has that id: the export is unknown, not completed yet, or its file expired.",
        ),
    }
}

/// The fields asked for, known and allowed together; every field when none is named.
fn read_fields(fields: Option<&[String]>) -> Result<Vec<&'static str>, Response> {
    let Some(fields) = fields else {
        return Ok(EXPORT_FIELDS.to_vec());
    };
    if fields.is_empty() {
        return Err(errors::validation(&[
            "fields must name at least one field when it is given.".to_owned(),
        ]));
    }
    let mut known = Vec::with_capacity(fields.len());
    for field in fields {
        match EXPORT_FIELDS.iter().find(|known| **known == field.as_str()) {
            Some(field) if !known.contains(field) => known.push(*field),
            Some(_) => {}
            None => {
                return Err(errors::validation(&[format!(
                    "fields contains {field:?}, which is not a contact field that can be exported."
                )]));
            }
        }
    }
    if !known.contains(&"email_address")
        && let Some(needing) = known
            .iter()
            .find(|field| NEEDS_EMAIL_ADDRESS.contains(field))
    {
        return Err(errors::validation(&[format!(
            "fields must include email_address to export {needing}."
        )]));
    }
    Ok(known)
}

/// The filters given, checked against what each may be combined with.
fn read_request(
    body: &ContactsExport,
    fields: Vec<&'static str>,
    inner: &Inner,
) -> Result<ExportRequest, Response> {
    let given = |name: &'static str, present: bool| present.then_some(name);
    let filters: Vec<&str> = [
        given("contact_ids", body.contact_ids.is_some()),
        given("list_ids", body.list_ids.is_some()),
        given("tag_ids", body.tag_ids.is_some()),
        given("new_subscriber", body.new_subscriber == Some(true)),
        given("segment_id", body.segment_id.is_some()),
        given("status", body.status.is_some()),
        given("exclude", body.exclude.is_some()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let allowed_with: &[(&str, &[&str])] = &[
        ("contact_ids", &["status"]),
        ("list_ids", &["status", "exclude", "new_subscriber"]),
        ("tag_ids", &[]),
        ("new_subscriber", &["list_ids", "exclude"]),
        ("segment_id", &[]),
        ("status", &["contact_ids", "list_ids"]),
        ("exclude", &["list_ids", "new_subscriber"]),
    ];
    for filter in &filters {
        let (_, allowed) = allowed_with
            .iter()
            .find(|(name, _)| name == filter)
            .expect("every filter has its rule");
        if let Some(other) = filters
            .iter()
            .find(|other| *other != filter && !allowed.contains(other))
        {
            return Err(errors::validation(&[format!(
                "{filter} cannot be combined with {other}."
            )]));
        }
    }
    if let Some(tag) = body.tag_ids.as_ref().and_then(|tags| tags.first()) {
        return Err(errors::not_found(&format!("Tag {tag} was not found.")));
    }
    if let Some(segment) = body.segment_id {
        return Err(errors::not_found(&format!(
            "Segment {segment} was not found."
        )));
    }
    let statuses = match &body.status {
        None => Vec::new(),
        Some(status) if STATUSES.contains(&status.as_str()) => vec![status.clone()],
        Some(status) => {
            return Err(errors::validation(&[format!(
                "status does not have a valid value: {status:?}."
            )]));
        }
    };
    let exclude = match &body.exclude {
        None => Vec::new(),
        Some(exclude) => {
            let ids = exclude.contact_ids.as_deref().unwrap_or_default();
            if ids.len() > MAX_EXCLUDED {
                return Err(errors::validation(&[format!(
                    "exclude.contact_ids accepts at most {MAX_EXCLUDED} ids."
                )]));
            }
            contact_ids("exclude.contact_ids", ids)?
        }
    };
    let lists = match &body.list_ids {
        None => Vec::new(),
        Some(ids) if ids.is_empty() || ids.len() > MAX_LISTS => {
            return Err(errors::validation(&[format!(
                "list_ids must contain 1 to {MAX_LISTS} list ids."
            )]));
        }
        Some(ids) => list_indexes(ids, inner)?,
    };
    let selection = if let Some(ids) = &body.contact_ids {
        if ids.is_empty() || ids.len() > MAX_CONTACT_IDS {
            return Err(errors::validation(&[format!(
                "contact_ids must contain 1 to {MAX_CONTACT_IDS} ids."
            )]));
        }
        Selection::Contacts(contact_ids("contact_ids", ids)?)
    } else if body.new_subscriber == Some(true) {
        Selection::NewSubscribers { lists, exclude }
    } else if body.list_ids.is_some() {
        Selection::Lists { lists, exclude }
    } else {
        Selection::All
    };
    Ok(ExportRequest {
        selection,
        statuses,
        fields,
    })
}

fn list_indexes(ids: &[String], inner: &Inner) -> Result<Vec<u32>, Response> {
    ids.iter()
        .map(|id| {
            Uuid::parse_str(id)
                .ok()
                .and_then(|id| inner.lists.get(id))
                .map(|list| list.index)
                .ok_or_else(|| errors::not_found(&format!("List {id} was not found.")))
        })
        .collect()
}

fn contact_ids(field: &str, ids: &[String]) -> Result<Vec<Uuid>, Response> {
    ids.iter()
        .map(|id| {
            Uuid::parse_str(id).map_err(|_| {
                errors::validation(&[format!(
                    "{field} contains {id:?}, which is not a valid UUID."
                )])
            })
        })
        .collect()
}
