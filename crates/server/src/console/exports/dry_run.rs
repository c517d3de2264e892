//! Dry run: what a run of the export would do, sending nothing.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Form, Json};
use uuid::Uuid;

use crate::console::fields::Fields;
use crate::console::page::{Nav, failure, render};
use crate::console::visitor::Visitor;
use crate::routes::runs;
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
    let name = match state.store.export(id).await {
        Ok(export) => export.name,
        Err(error) => return failure(error.into()),
    };
    let options = runs::RunOptions {
        full_resync: fields.get("full_resync") == "1",
    };
    match runs::dry_run(
        State(state),
        visitor.caller.clone(),
        Path(id),
        Query(options),
    )
    .await
    {
        Ok(Json(report)) => render(&DryRunPage {
            nav: Nav::new(&visitor, "exports"),
            id,
            name,
            report,
        }),
        Err(error) => failure(error),
    }
}
