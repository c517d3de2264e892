//! The actions on exports — Run, Read the list back, Run all, Duplicate, Detach, Remove — each
//! through its use case in `segsync_app`.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use segsync_app::runs::{RunOptions, RunView};
use uuid::Uuid;

use crate::console::fields::Fields;
use crate::console::page::{act, failure};
use crate::console::visitor::Visitor;
use crate::error::{AppError, Code};
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
    let options = RunOptions {
        full_resync: fields.get("full_resync") == "1",
    };
    let run = async {
        state
            .app
            .run_control(&visitor.caller, "run this export")?
            .run_now(id, options)
            .await
    };
    show_run(run.await)
}

/// Reads the export's list back now and shows the run that does it.
pub(crate) async fn verify(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let run = async {
        state
            .app
            .run_control(&visitor.caller, "read this export's list back")?
            .verify_now(id)
            .await
    };
    show_run(run.await)
}

/// The run queued, or the one already going when there was one.
fn show_run(queued: Result<RunView, AppError>) -> Response {
    match queued {
        Ok(run) => Redirect::to(&format!("/runs/{}", run.id)).into_response(),
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
        async {
            state
                .app
                .run_control(&visitor.caller, "run exports")?
                .run_all()
                .await
        },
        |answer| {
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
        async {
            state
                .app
                .export_changes(&visitor.caller, "duplicate this export")?
                .duplicate(id)
                .await
        },
        |copy| format!("/exports/{}", copy.id),
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
        async {
            state
                .app
                .export_changes(&visitor.caller, "detach this export")?
                .detach(id)
                .await
        },
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
        async {
            state
                .app
                .export_changes(&visitor.caller, "remove this export")?
                .remove(id)
                .await
        },
        |_| "/exports?notice=Export%20removed".to_owned(),
    )
    .await
}
