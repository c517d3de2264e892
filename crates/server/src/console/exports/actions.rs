//! The actions on exports — Run, Run all, Duplicate, Detach, Remove — each through the API's own
//! handler.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use uuid::Uuid;

use crate::console::fields::Fields;
use crate::console::page::{act, failure};
use crate::console::visitor::Visitor;
use crate::error::Code;
use crate::routes::exports;
use crate::routes::runs;
use crate::state::AppState;

/// Runs the export now and shows its run.
pub(crate) async fn run(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let options = runs::RunOptions {
        full_resync: fields.get("full_resync") == "1",
    };
    match runs::run_now(
        State(state),
        visitor.caller.clone(),
        Path(id),
        Query(options),
    )
    .await
    {
        Ok((_, Json(run))) => Redirect::to(&format!("/runs/{}", run.id)).into_response(),
        Err(error) if error.code == Code::RunInProgress => {
            let running = error
                .details
                .as_ref()
                .and_then(|details| details["run_id"].as_str())
                .unwrap_or_default()
                .to_owned();
            Redirect::to(&format!("/runs/{running}?already=1")).into_response()
        }
        Err(error) => failure(error),
    }
}

pub(crate) async fn run_all(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        runs::run_all(State(state), visitor.caller.clone()),
        |(_, Json(answer))| {
            let notice = format!(
                "Run all: {} queued, {} skipped",
                answer.queued.len(),
                answer.skipped.len()
            );
            let notice: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
            format!("/status?notice={notice}")
        },
    )
    .await
}

pub(crate) async fn duplicate(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        exports::duplicate(State(state), visitor.caller.clone(), Path(id)),
        |(_, Json(copy))| format!("/exports/{}", copy.id),
    )
    .await
}

pub(crate) async fn detach(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        exports::detach(State(state), visitor.caller.clone(), Path(id)),
        |_| format!("/exports/{id}"),
    )
    .await
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        exports::remove(State(state), visitor.caller.clone(), Path(id)),
        |_| "/exports?notice=Export%20removed".to_owned(),
    )
    .await
}
