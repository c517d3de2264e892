//! System (admins): what the server reads its profiles from, whether that source opens now,
//! and its schema. The page calls the API's handler as the visitor.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::page::{Nav, failure, render};
use super::visitor::Visitor;
use crate::routes::system::{self, ProfileSourceView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/system.html")]
struct SystemPage {
    nav: Nav,
    source: ProfileSourceView,
}

pub(crate) async fn page(State(state): State<AppState>, visitor: Visitor) -> Response {
    match system::profiles(State(state), visitor.caller.clone()).await {
        Ok(axum::Json(source)) => render(&SystemPage {
            nav: Nav::new(&visitor, "system"),
            source,
        }),
        Err(error) => failure(error),
    }
}
