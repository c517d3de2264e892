//! System › Schedule: everyone sees the refresh schedule and its next run; admins change it.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::fields::Fields;
use super::page::{Nav, Problems, failure, invalid, render};
use super::schedule_form::{self, ScheduleFields};
use super::visitor::Visitor;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/schedule.html")]
struct SchedulePage {
    nav: Nav,
    schedule: ScheduleFields,
    next_run: Option<String>,
    problems: Problems,
    notice: Option<String>,
}

pub(crate) async fn page(State(state): State<AppState>, visitor: Visitor) -> Response {
    match state.app.schedule().await {
        Ok(view) => render(&SchedulePage {
            nav: Nav::new(&visitor, "schedule"),
            schedule: ScheduleFields::of(Some(&view.schedule), false),
            next_run: view
                .next_run
                .map(|next| next.format("%Y-%m-%d %H:%M UTC").to_string()),
            problems: Problems::default(),
            notice: None,
        }),
        Err(error) => failure(error),
    }
}

pub(crate) async fn save(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let admin = match visitor.caller.admin("change the refresh schedule") {
        Ok(admin) => admin,
        Err(error) => return failure(error),
    };
    let problem_page = |problem: String| {
        let mut problems = Problems::default();
        problems.at("schedule", problem);
        invalid(&SchedulePage {
            nav: Nav::new(&visitor, "schedule"),
            schedule: ScheduleFields::as_typed(&fields, false),
            next_run: None,
            problems,
            notice: None,
        })
    };
    let chosen = match schedule_form::read(&fields) {
        Ok(Some(chosen)) => chosen,
        Ok(None) => return problem_page("choose off, daily or weekly".to_owned()),
        Err(problem) => return problem_page(problem),
    };
    match state.app.change_schedule(admin, chosen).await {
        Ok(_) => Redirect::to("/schedule").into_response(),
        Err(error) if error.status.as_u16() == 422 => problem_page(error.message),
        Err(error) => failure(error),
    }
}
