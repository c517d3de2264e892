//! `POST /v3/activities/contact_delete`: deletes contacts named by id (up to 500) or every
//! member of up to 50 lists, never both. A deleted contact leaves its lists and counts as active
//! nowhere, but an import brings it back, as Constant Contact documents.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::errors;
use super::{json_body, refuse_when_queue_full};
use crate::activity_runner::{self, Job};
use crate::state::SandboxState;
use crate::state::activities::ActivityKind;

const MAX_CONTACT_IDS: usize = 500;
const MAX_LISTS: usize = 50;

#[derive(Deserialize)]
struct DeleteBody {
    contact_ids: Option<Vec<String>>,
    list_ids: Option<Vec<String>>,
}

pub(crate) async fn delete_contacts(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: DeleteBody = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let config = state.config();
    let mut inner = state.lock();
    if let Some(refusal) =
        refuse_when_queue_full(inner.activities.queued(), config.max_queued_activities)
    {
        return refusal;
    }
    let contact_ids: Vec<Uuid> = match (&body.contact_ids, &body.list_ids) {
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > MAX_CONTACT_IDS {
                return errors::validation(&[format!(
                    "contact_ids must contain 1 to {MAX_CONTACT_IDS} ids."
                )]);
            }
            let parsed: Result<Vec<Uuid>, _> = ids.iter().map(|id| Uuid::parse_str(id)).collect();
            match parsed {
                Ok(ids) => ids,
                Err(_) => {
                    return errors::validation(&[
                        "contact_ids must contain valid UUIDs.".to_owned()
                    ]);
                }
            }
        }
        (None, Some(ids)) => {
            if ids.is_empty() || ids.len() > MAX_LISTS {
                return errors::validation(&[format!(
                    "list_ids must contain 1 to {MAX_LISTS} list ids."
                )]);
            }
            let mut lists = Vec::new();
            for id in ids {
                match Uuid::parse_str(id).ok().and_then(|id| inner.lists.get(id)) {
                    Some(list) => lists.push(list.index),
                    None => return errors::not_found(&format!("List {id} was not found.")),
                }
            }
            inner
                .contacts
                .iter()
                .filter(|contact| contact.lists.iter().any(|list| lists.contains(list)))
                .map(|contact| contact.contact_id)
                .collect()
        }
        _ => {
            return errors::validation(&[
                "Exactly one of contact_ids or list_ids is required.".to_owned()
            ]);
        }
    };
    let activity = inner.activities.create(
        ActivityKind::ContactDelete,
        contact_ids.len() as u64,
        state.now(),
    );
    let (activity_id, json) = (activity.activity_id, activity.to_json());
    drop(inner);
    activity_runner::start(state.clone(), activity_id, Job::DeleteContacts(contact_ids));
    (StatusCode::CREATED, Json(json)).into_response()
}
