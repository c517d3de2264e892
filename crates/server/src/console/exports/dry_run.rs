//! Dry run: what a run of the export would do, sending nothing.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use segsync_app::runs::RunOptions;
use uuid::Uuid;

use crate::console::fields::Fields;
use crate::console::page::{Nav, failure, render};
use crate::console::visitor::Visitor;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/dry_run.html")]
struct DryRunPage {
    nav: Nav,
    id: Uuid,
    name: String,
    report: segsync_export::DryRunReport,
}

/// Shows what a run would do, sending nothing.
pub(crate) async fn dry_run(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let name = match state.app.exports(&visitor.caller).get(id).await {
        Ok(export) => export.name,
        Err(error) => return failure(error),
    };
    let options = RunOptions {
        full_resync: fields.get("full_resync") == "1",
    };
    let report = async {
        state
            .app
            .run_control(&visitor.caller, "dry-run this export")?
            .dry_run(id, options)
            .await
    };
    match report.await {
        Ok(report) => render(&DryRunPage {
            nav: Nav::new(&visitor, "exports"),
            id,
            name,
            report,
        }),
        Err(error) => failure(error),
    }
}
