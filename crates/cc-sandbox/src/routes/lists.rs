//! `/v3/contact_lists`: list, filter by name, page, read one, create.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::errors::{self, keys};
use super::query::ApiQuery;
use super::{json_body, paging};
use crate::state::lists::{CreateListError, ListRecord};
use crate::state::{SandboxState, timestamp};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1_000;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    include_count: Option<String>,
    #[serde(default)]
    include_membership_count: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
}

pub(crate) async fn get_lists(
    State(state): State<Arc<SandboxState>>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    let (start, query) = match paging::resume(query.cursor.clone().as_deref(), query) {
        Ok((start, query)) => (start.unwrap_or(0), query),
        Err(refusal) => return refusal,
    };
    let limit = match paging::limit(query.limit.as_deref(), DEFAULT_PAGE, MAX_PAGE) {
        Ok(limit) => limit,
        Err(message) => return errors::validation(&[message]),
    };
    let counting = match MembershipCount::read(query.include_membership_count.as_deref()) {
        Ok(counting) => counting,
        Err(message) => return errors::validation(&[message]),
    };
    let inner = state.lock();
    let matching: Vec<&ListRecord> = inner
        .lists
        .iter()
        .filter(|list| query.name.as_deref().is_none_or(|name| list.name == name))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(limit)
        .map(|list| {
            let count = counting.map(|counting| {
                inner
                    .contacts
                    .count_in_list(list.index, counting == MembershipCount::Active)
            });
            list_json(list, count)
        })
        .collect();
    let mut body = json!({ "lists": page, "_links": {} });
    if start + limit < matching.len() {
        let cursor = paging::encode(start + limit, &query);
        body["_links"] =
            json!({ "next": { "href": format!("/v3/contact_lists?cursor={cursor}") } });
    }
    if query.include_count.as_deref() == Some("true") {
        body["lists_count"] = json!(matching.len());
    }
    Json(body).into_response()
}

pub(crate) async fn get_list(
    State(state): State<Arc<SandboxState>>,
    Path(list_id): Path<String>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Response {
    let counting = match MembershipCount::read(query.include_membership_count.as_deref()) {
        Ok(counting) => counting,
        Err(message) => return errors::validation(&[message]),
    };
    let inner = state.lock();
    // A malformed id is answered like an unknown one: 404 with the array shape.
    let Some(list) = Uuid::parse_str(&list_id)
        .ok()
        .and_then(|id| inner.lists.get(id))
    else {
        return errors::not_found("The requested resource was not found.");
    };
    let count = counting.map(|counting| {
        inner
            .contacts
            .count_in_list(list.index, counting == MembershipCount::Active)
    });
    Json(list_json(list, count)).into_response()
}

#[derive(Debug, Deserialize)]
struct ListInput {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    favorite: Option<bool>,
    #[serde(default)]
    description: Option<String>,
}

pub(crate) async fn create_list(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input: ListInput = match json_body(&headers, &body) {
        Ok(input) => input,
        Err(refusal) => return refusal,
    };
    let Some(name) = input.name else {
        return errors::validation(&["name is required.".to_owned()]);
    };
    if input
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 255)
    {
        return errors::validation(&["description must be at most 255 characters.".to_owned()]);
    }
    let max_lists = state.config().max_lists;
    let mut inner = state.lock();
    match inner.lists.create(
        &name,
        input.description,
        input.favorite.unwrap_or(false),
        max_lists,
        state.now(),
    ) {
        Ok(list) => (StatusCode::CREATED, Json(list_json(list, None))).into_response(),
        Err(CreateListError::NameTaken) => errors::error_one(
            StatusCode::CONFLICT,
            keys::CONFLICT,
            &format!("A list named {name:?} already exists."),
        ),
        Err(CreateListError::TooManyLists) => errors::validation(&[format!(
            "The account already has the maximum of {max_lists} lists."
        )]),
        Err(CreateListError::InvalidName(message)) => errors::validation(&[message]),
    }
}

/// `include_membership_count`: every member, or only the active ones (not those still to
/// confirm their sign-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MembershipCount {
    All,
    Active,
}

impl MembershipCount {
    fn read(value: Option<&str>) -> Result<Option<Self>, String> {
        match value {
            None => Ok(None),
            Some("all") => Ok(Some(Self::All)),
            Some("active") => Ok(Some(Self::Active)),
            Some(other) => Err(format!(
                "include_membership_count does not have a valid value: {other:?}."
            )),
        }
    }
}

fn list_json(list: &ListRecord, membership_count: Option<usize>) -> Value {
    let mut body = json!({
        "list_id": list.list_id,
        "name": list.name,
        "favorite": list.favorite,
        "created_at": timestamp(list.created_at),
        "updated_at": timestamp(list.updated_at),
    });
    if let Some(description) = &list.description {
        body["description"] = json!(description);
    }
    if let Some(count) = membership_count {
        body["membership_count"] = json!(count);
    }
    body
}
