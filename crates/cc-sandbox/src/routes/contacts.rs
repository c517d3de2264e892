//! `GET /v3/contacts`: by email, by list, by status, changed since a moment (`updated_after`),
//! with `include` and cursor paging.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::query::ApiQuery;
use super::{errors, paging};
use crate::state::contacts::ContactRecord;
use crate::state::{Inner, SandboxState, timestamp};

const INCLUDABLE: &[&str] = &[
    "custom_fields",
    "list_memberships",
    "phone_numbers",
    "street_addresses",
    "taggings",
    "notes",
];
const STATUSES: &[&str] = &[
    "all",
    "active",
    "deleted",
    "not_set",
    "pending_confirmation",
    "temp_hold",
    "unsubscribed",
];
const MAX_LIST_FILTER: usize = 25;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct ContactsQuery {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    lists: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    include: Option<String>,
    #[serde(default)]
    updated_after: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
}

struct Filter {
    email: Option<String>,
    lists: Vec<u32>,
    statuses: Vec<String>,
    updated_after: Option<DateTime<Utc>>,
    include: Vec<String>,
    limit: usize,
}

pub(crate) async fn get_contacts(
    State(state): State<Arc<SandboxState>>,
    ApiQuery(query): ApiQuery<ContactsQuery>,
) -> Response {
    let (start, query) = match paging::resume(query.cursor.clone().as_deref(), query) {
        Ok((start, query)) => (start.unwrap_or(0), query),
        Err(refusal) => return refusal,
    };
    let inner = state.lock();
    let filter = match read_filter(&query, &inner) {
        Ok(filter) => filter,
        Err(response) => return response,
    };
    let mut page = Vec::new();
    let mut next_position = None;
    if let Some(email) = &filter.email {
        if let Some(contact) = inner
            .contacts
            .by_email(email)
            .filter(|c| matches(c, &filter))
        {
            page.push(contact_json(contact, &filter.include, &inner));
        }
    } else {
        for (position, contact) in inner.contacts.iter_from(start) {
            if !matches(contact, &filter) {
                continue;
            }
            if page.len() == filter.limit {
                next_position = Some(position);
                break;
            }
            page.push(contact_json(contact, &filter.include, &inner));
        }
    }
    let links = match next_position {
        Some(position) => {
            json!({ "next": { "href": format!("/v3/contacts?cursor={}", paging::encode(position, &query)) } })
        }
        None => json!({}),
    };
    Json(json!({ "contacts": page, "_links": links })).into_response()
}

fn read_filter(query: &ContactsQuery, inner: &Inner) -> Result<Filter, Response> {
    let limit =
        paging::limit(query.limit.as_deref(), 50, 500).map_err(|m| errors::validation(&[m]))?;
    let split = |text: &Option<String>| -> Vec<String> {
        text.as_deref()
            .map(|text| {
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let include = split(&query.include);
    if let Some(bad) = include
        .iter()
        .find(|part| !INCLUDABLE.contains(&part.as_str()))
    {
        return Err(errors::validation(&[format!(
            "include does not have a valid value: {bad:?}."
        )]));
    }
    let statuses = split(&query.status);
    if let Some(bad) = statuses
        .iter()
        .find(|status| !STATUSES.contains(&status.as_str()))
    {
        return Err(errors::validation(&[format!(
            "status does not have a valid value: {bad:?}."
        )]));
    }
    let list_ids = split(&query.lists);
    if list_ids.len() > MAX_LIST_FILTER {
        return Err(errors::validation(&[format!(
            "lists accepts at most {MAX_LIST_FILTER} list ids."
        )]));
    }
    let mut lists = Vec::new();
    for id in &list_ids {
        match Uuid::parse_str(id).ok().and_then(|id| inner.lists.get(id)) {
            Some(list) => lists.push(list.index),
            None => return Err(errors::not_found(&format!("List {id} was not found."))),
        }
    }
    let updated_after = match query.updated_after.as_deref() {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| {
                    errors::validation(&[format!(
                        "updated_after must be an ISO-8601 date and time, not {text:?}."
                    )])
                })?,
        ),
    };
    Ok(Filter {
        email: query.email.clone(),
        lists,
        statuses,
        updated_after,
        include,
        limit,
    })
}

fn matches(contact: &ContactRecord, filter: &Filter) -> bool {
    let in_lists =
        filter.lists.is_empty() || contact.lists.iter().any(|list| filter.lists.contains(list));
    let status_ok = contact.has_status(&filter.statuses);
    let recent = filter
        .updated_after
        .is_none_or(|after| contact.updated_at > after);
    in_lists && status_ok && recent
}

fn contact_json(contact: &ContactRecord, include: &[String], inner: &Inner) -> Value {
    let mut email_address = json!({
        "address": contact.address,
        "permission_to_send": contact.permission.as_str(),
        "created_at": timestamp(contact.created_at),
        "updated_at": timestamp(contact.updated_at),
        "opt_in_source": "Account",
        "opt_in_date": timestamp(contact.created_at),
        "confirm_status": "off",
    });
    if let Some(opt_out) = &contact.opt_out {
        email_address["opt_out_source"] = json!(opt_out.source);
        email_address["opt_out_date"] = json!(timestamp(opt_out.at));
        if let Some(reason) = &opt_out.reason {
            email_address["opt_out_reason"] = json!(reason);
        }
    }
    let mut body = json!({
        "contact_id": contact.contact_id,
        "email_address": email_address,
        "create_source": "Account",
        "update_source": "Account",
        "created_at": timestamp(contact.created_at),
        "updated_at": timestamp(contact.updated_at),
    });
    for key in ["first_name", "last_name", "job_title", "company_name"] {
        if let Some(value) = contact.field(key) {
            body[key] = json!(value);
        }
    }
    if let (Some(month), Some(day)) = (
        contact.field("birthday_month"),
        contact.field("birthday_day"),
    ) {
        body["birthday_month"] = json!(month.parse::<u8>().unwrap_or(0));
        body["birthday_day"] = json!(day.parse::<u8>().unwrap_or(0));
    }
    if let Some(anniversary) = contact.field("anniversary") {
        body["anniversary"] = json!(anniversary);
    }
    for part in include {
        match part.as_str() {
            "list_memberships" => {
                let ids: Vec<Uuid> = contact
                    .lists
                    .iter()
                    .filter_map(|index| inner.lists.id_of(*index))
                    .collect();
                body["list_memberships"] = json!(ids);
            }
            "custom_fields" => {
                let fields: Vec<Value> = contact
                    .fields
                    .iter()
                    .filter_map(|(key, value)| key.strip_prefix("cf:").map(|name| (name, value)))
                    .map(|(name, value)| json!({ "name": name, "value": value.as_ref() }))
                    .collect();
                body["custom_fields"] = json!(fields);
            }
            "phone_numbers" => {
                let phones: Vec<Value> = [
                    ("phone", "other"),
                    ("home_phone", "home"),
                    ("work_phone", "work"),
                    ("mobile_phone", "mobile"),
                    ("other_phone", "other"),
                ]
                .iter()
                .filter_map(|(key, kind)| {
                    contact
                        .field(key)
                        .map(|number| json!({ "phone_number": number, "kind": kind }))
                })
                .take(3)
                .collect();
                body["phone_numbers"] = json!(phones);
            }
            "street_addresses" => {
                let address: serde_json::Map<String, Value> = [
                    ("street", "street"),
                    ("city", "city"),
                    ("state", "state"),
                    ("zip", "postal_code"),
                    ("country", "country"),
                ]
                .iter()
                .filter_map(|(key, name)| {
                    contact
                        .field(key)
                        .map(|value| ((*name).to_owned(), json!(value)))
                })
                .collect();
                let addresses = if address.is_empty() {
                    Vec::new()
                } else {
                    let mut address = Value::Object(address);
                    address["kind"] = json!("home");
                    vec![address]
                };
                body["street_addresses"] = json!(addresses);
            }
            _ => body[part.as_str()] = json!([]),
        }
    }
    body
}
