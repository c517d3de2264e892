//! `POST /v3/activities/remove_list_memberships`: removes memberships, never contacts, and
//! never unsubscribes anyone. The source is contact ids, lists or every active contact; the
//! latter two may exclude contacts by id, as Constant Contact's guide says.

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
use crate::state::contacts::Permission;

const MAX_CONTACT_IDS: usize = 500;
const MAX_LISTS: usize = 50;

#[derive(Deserialize)]
struct RemoveBody {
    source: Option<Source>,
    list_ids: Option<Vec<String>>,
    exclude: Option<Exclude>,
}

#[derive(Deserialize)]
struct Exclude {
    contact_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Source {
    contact_ids: Option<Vec<String>>,
    list_ids: Option<Vec<String>>,
    all_active_contacts: Option<bool>,
    tag_ids: Option<Vec<String>>,
    engagement_level: Option<String>,
}

pub(crate) async fn remove_list_memberships(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: RemoveBody = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let (Some(source), Some(target_ids)) = (body.source, body.list_ids) else {
        return errors::validation(&["source and list_ids are required.".to_owned()]);
    };
    if target_ids.is_empty() || target_ids.len() > MAX_LISTS {
        return errors::validation(&[format!("list_ids must contain 1 to {MAX_LISTS} list ids.")]);
    }
    let kinds = [
        source.contact_ids.is_some(),
        source.list_ids.is_some(),
        source.all_active_contacts.is_some(),
        source.tag_ids.is_some(),
        source.engagement_level.is_some(),
    ];
    if kinds.iter().filter(|given| **given).count() != 1 {
        return errors::validation(&["source must name exactly one of contact_ids, list_ids, all_active_contacts, tag_ids or engagement_level.".to_owned()]);
    }
    let excluded = match &body.exclude {
        None => Vec::new(),
        Some(_) if source.list_ids.is_none() && source.all_active_contacts.is_none() => {
            return errors::validation(&[
                "exclude may be given only with source list_ids or all_active_contacts.".to_owned(),
            ]);
        }
        Some(exclude) => match parse_contact_ids(
            "exclude.contact_ids",
            exclude.contact_ids.as_deref().unwrap_or_default(),
        ) {
            Ok(ids) => ids,
            Err(response) => return response,
        },
    };
    let config = state.config();
    let mut inner = state.lock();
    if let Some(refusal) =
        refuse_when_queue_full(inner.activities.queued(), config.max_queued_activities)
    {
        return refusal;
    }
    let resolve = |ids: &[String]| -> Result<Vec<u32>, Response> {
        ids.iter()
            .map(|id| {
                Uuid::parse_str(id)
                    .ok()
                    .and_then(|id| inner.lists.get(id))
                    .map(|list| list.index)
                    .ok_or_else(|| errors::not_found(&format!("List {id} was not found.")))
            })
            .collect()
    };
    let lists = match resolve(&target_ids) {
        Ok(lists) => lists,
        Err(response) => return response,
    };
    let contact_ids: Vec<Uuid> = if let Some(ids) = &source.contact_ids {
        if ids.is_empty() || ids.len() > MAX_CONTACT_IDS {
            return errors::validation(&[format!(
                "source.contact_ids must contain 1 to {MAX_CONTACT_IDS} ids."
            )]);
        }
        match parse_contact_ids("source.contact_ids", ids) {
            Ok(ids) => ids,
            Err(response) => return response,
        }
    } else if let Some(ids) = &source.list_ids {
        if ids.is_empty() || ids.len() > MAX_LISTS {
            return errors::validation(&[format!(
                "source.list_ids must contain 1 to {MAX_LISTS} list ids."
            )]);
        }
        let source_lists = match resolve(ids) {
            Ok(lists) => lists,
            Err(response) => return response,
        };
        inner
            .contacts
            .iter()
            .filter(|contact| contact.lists.iter().any(|list| source_lists.contains(list)))
            .map(|contact| contact.contact_id)
            .filter(|id| !excluded.contains(id))
            .collect()
    } else if source.all_active_contacts == Some(true) {
        inner
            .contacts
            .iter()
            .filter(|contact| contact.permission == Permission::Implicit)
            .map(|contact| contact.contact_id)
            .filter(|id| !excluded.contains(id))
            .collect()
    } else {
        return errors::validation(&[
            "The sandbox supports contact_ids, list_ids and all_active_contacts: true as the source."
                .to_owned(),
        ]);
    };
    let activity = inner.activities.create(
        ActivityKind::RemoveListMemberships,
        contact_ids.len() as u64,
        state.now(),
    );
    let (activity_id, json) = (activity.activity_id, activity.to_json());
    drop(inner);
    activity_runner::start(
        state.clone(),
        activity_id,
        Job::RemoveMemberships { contact_ids, lists },
    );
    (StatusCode::CREATED, Json(json)).into_response()
}

fn parse_contact_ids(field: &str, ids: &[String]) -> Result<Vec<Uuid>, Response> {
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
