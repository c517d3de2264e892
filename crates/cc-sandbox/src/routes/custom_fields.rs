//! `/v3/contact_custom_fields`: the account's custom fields, paged, and creating one.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{self, keys};
use super::query::ApiQuery;
use super::{json_body, paging};
use crate::state::custom_fields::{CreateFieldError, CustomFieldRecord};
use crate::state::{SandboxState, timestamp};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct CustomFieldsQuery {
    #[serde(default)]
    limit: Option<String>,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
}

pub(crate) async fn get_custom_fields(
    State(state): State<Arc<SandboxState>>,
    ApiQuery(query): ApiQuery<CustomFieldsQuery>,
) -> Response {
    let (start, query) = match paging::resume(query.cursor.clone().as_deref(), query) {
        Ok((start, query)) => (start.unwrap_or(0), query),
        Err(refusal) => return refusal,
    };
    let limit = match paging::limit(query.limit.as_deref(), DEFAULT_PAGE, MAX_PAGE) {
        Ok(limit) => limit,
        Err(message) => return errors::validation(&[message]),
    };
    let inner = state.lock();
    let page: Vec<Value> = inner
        .custom_fields
        .iter()
        .skip(start)
        .take(limit)
        .map(field_json)
        .collect();
    let mut body = json!({ "custom_fields": page, "_links": {} });
    if start + limit < inner.custom_fields.len() {
        let cursor = paging::encode(start + limit, &query);
        body["_links"] =
            json!({ "next": { "href": format!("/v3/contact_custom_fields?cursor={cursor}") } });
    }
    Json(body).into_response()
}

#[derive(Debug, Deserialize)]
struct CustomFieldInput {
    #[serde(default)]
    label: Option<String>,
    #[serde(default, rename = "type")]
    field_type: Option<String>,
}

pub(crate) async fn create_custom_field(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input: CustomFieldInput = match json_body(&headers, &body) {
        Ok(input) => input,
        Err(refusal) => return refusal,
    };
    let (Some(label), Some(field_type)) = (input.label, input.field_type) else {
        return errors::validation(&["label and type are required.".to_owned()]);
    };
    let now = state.now();
    let mut inner = state.lock();
    match inner.custom_fields.create(&label, &field_type, now) {
        Ok(field) => (StatusCode::CREATED, Json(field_json(field))).into_response(),
        Err(error @ CreateFieldError::NameTaken(_)) => {
            errors::error_one(StatusCode::CONFLICT, keys::CONFLICT, &error.to_string())
        }
        Err(error) => errors::validation(&[error.to_string()]),
    }
}

fn field_json(field: &CustomFieldRecord) -> Value {
    json!({
        "custom_field_id": field.custom_field_id,
        "label": field.label,
        "name": field.name,
        "type": field.field_type,
        "created_at": timestamp(field.created_at),
        "updated_at": timestamp(field.updated_at),
    })
}
