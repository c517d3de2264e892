//! The sandbox's routes: Constant Contact's paths under `/v3` and `/oauth2/default/v1`, and
//! the admin API under `/__sandbox`.

// Handlers return a ready `Response` as their error, as axum handlers do; its size is fine on
// this path.
#![allow(clippy::result_large_err)]

mod activities;
mod admin;
mod contact_delete;
mod contact_exports;
mod contacts;
mod custom_fields;
mod errors;
pub(crate) mod guard;
mod imports;
mod lists;
mod memberships;
mod oauth;
mod paging;
mod query;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::state::SandboxState;

/// Bodies larger than this are refused outright; anything up to it is read (and imports beyond
/// 4 MB are truncated as Constant Contact does).
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub(crate) fn router(state: Arc<SandboxState>) -> Router {
    let api = Router::new()
        .route(
            "/v3/contact_lists",
            get(lists::get_lists).post(lists::create_list),
        )
        .route("/v3/contact_lists/{list_id}", get(lists::get_list))
        .route(
            "/v3/activities/contacts_json_import",
            post(imports::contacts_json_import),
        )
        .route(
            "/v3/activities/remove_list_memberships",
            post(memberships::remove_list_memberships),
        )
        .route(
            "/v3/activities/contact_delete",
            post(contact_delete::delete_contacts),
        )
        .route(
            "/v3/activities/contact_exports",
            post(contact_exports::export_contacts),
        )
        .route(
            "/v3/contact_exports/{file_export_id}",
            get(contact_exports::exported_file),
        )
        .route("/v3/activities", get(activities::get_activities))
        .route(
            "/v3/activities/{activity_id}",
            get(activities::get_activity),
        )
        .route("/v3/contacts", get(contacts::get_contacts))
        .route(
            "/v3/contact_custom_fields",
            get(custom_fields::get_custom_fields).post(custom_fields::create_custom_field),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::api_guard,
        ))
        .layer(middleware::map_response(errors::in_json));
    let oauth = Router::new()
        .route(
            "/oauth2/default/v1/authorize",
            get(oauth::authorize_page).post(oauth::authorize_decision),
        )
        .route("/oauth2/default/v1/token", post(oauth::token))
        .route(
            "/oauth2/default/v1/device/authorize",
            post(oauth::device_authorize),
        )
        .route(
            "/oauth2/default/v1/device",
            get(oauth::device_page).post(oauth::device_decision),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), log_only));
    let admin = Router::new()
        .route(
            "/__sandbox/faults",
            post(admin::add_fault).delete(admin::clear_faults),
        )
        .route(
            "/__sandbox/activities/fail_next",
            post(admin::fail_activities),
        )
        .route("/__sandbox/tokens/expire", post(admin::expire_tokens))
        .route("/__sandbox/tokens/revoke", post(admin::revoke_tokens))
        .route("/__sandbox/contacts/unsubscribe", post(admin::unsubscribe))
        .route("/__sandbox/contacts/delete", post(admin::delete_contacts))
        .route("/__sandbox/contacts", get(admin::contact))
        .route("/__sandbox/device/approve", post(admin::approve_device))
        .route("/__sandbox/lists", get(admin::lists))
        .route(
            "/__sandbox/lists/{list_id}/members",
            get(admin::list_members),
        )
        .route("/__sandbox/requests", get(admin::requests))
        .route("/__sandbox/custom_fields", post(admin::create_custom_field))
        .route("/__sandbox/clock/advance", post(admin::advance_clock));
    api.merge(oauth)
        .merge(admin)
        .fallback(no_such_resource)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// A path Constant Contact does not have: 404 in its JSON shape.
async fn no_such_resource() -> Response {
    errors::not_found("The requested resource was not found.")
}

async fn method_not_allowed() -> Response {
    errors::error_one(
        StatusCode::METHOD_NOT_ALLOWED,
        errors::keys::METHOD_NOT_ALLOWED,
        "The method is not allowed for the requested resource.",
    )
}

/// Logs requests to the authorisation server, which have no bearer token.
async fn log_only(
    State(state): State<Arc<SandboxState>>,
    request: Request,
    next: Next,
) -> Response {
    let stamp = guard::RequestStamp::new(&state, &request);
    let response = next.run(request).await;
    stamp.log(&state, None, response.status());
    response
}

/// Reads a JSON body: 415 for another content type, 400 for JSON that does not parse.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, Response> {
    if let Some(refusal) = require_json(headers) {
        return Err(refusal);
    }
    serde_json::from_slice(body).map_err(|error| {
        errors::validation(&[format!("The request body is not valid JSON: {error}.")])
    })
}

/// 429 when the account already has as many activities waiting or running as it may.
pub(crate) fn refuse_when_queue_full(queued: usize, max_queued: usize) -> Option<Response> {
    (queued >= max_queued).then(|| {
        errors::error_object(
            StatusCode::TOO_MANY_REQUESTS,
            errors::keys::TOO_MANY_ACTIVITIES,
            &format!("You exceeded {max_queued} queued activities for this user account."),
        )
    })
}

/// JSON endpoints answer 415 to any other content type.
pub(crate) fn require_json(headers: &HeaderMap) -> Option<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        return None;
    }
    Some(errors::error_one(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        errors::keys::UNSUPPORTED_MEDIA_TYPE,
        &format!("Content-Type must be application/json, not {content_type:?}."),
    ))
}
