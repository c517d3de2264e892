//! The web console: server-rendered pages (askama templates under `templates/console/`) over
//! the same handlers as the REST API, so a page can do exactly what its user's role may do
//! through the API and nothing else. Forms work without JavaScript; `console.js` only makes the
//! run page live and adds data-matching rows in place.

mod audit;
mod charts;
mod connections;
mod exclusions;
mod exports;
mod fields;
mod home;
mod listing;
mod page;
mod privacy;
mod rule_tree;
mod runs;
mod schedule;
mod schedule_form;
mod segments;
mod sign_in;
mod system;
mod tokens;
mod users;
mod value_inputs;
mod visitor;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::state::AppState;

const STYLES: &str = include_str!("../../assets/console.css");
const SCRIPT: &str = include_str!("../../assets/console.js");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route("/next-steps/dismiss", post(home::dismiss_next_steps))
        .route(
            "/assets/console.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], STYLES).into_response() }),
        )
        .route(
            "/assets/console.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], SCRIPT).into_response() }),
        )
        .route("/sign-in", get(sign_in::page).post(sign_in::sign_in))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/connections", get(connections::list))
        .route(
            "/connections/new",
            get(connections::new).post(connections::create),
        )
        .route(
            "/connections/{id}",
            get(connections::page).post(connections::update),
        )
        .route(
            "/connections/{id}/authenticate",
            post(connections::authenticate),
        )
        .route(
            "/connections/{id}/export-user",
            post(connections::become_export_user),
        )
        .route(
            "/connections/{id}/remove",
            get(connections::confirm_removal).post(connections::remove),
        )
        .route("/exports", get(exports::list))
        .route("/exports/new", get(exports::new).post(exports::create))
        .route("/exports/run-all", post(exports::run_all))
        .route("/exports/{id}", get(exports::edit).post(exports::update))
        .route("/exports/{id}/run", post(exports::run))
        .route("/exports/{id}/verify", post(exports::verify))
        .route("/exports/{id}/dry-run", post(exports::dry_run))
        .route("/exports/{id}/duplicate", post(exports::duplicate))
        .route("/exports/{id}/detach", post(exports::detach))
        .route("/exports/{id}/remove", post(exports::remove))
        .route("/runs/{id}", get(runs::page))
        .route("/runs/{id}/live", get(runs::live))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/runs/{id}/confirm", post(runs::confirm))
        .route("/runs/{id}/discard", post(runs::discard))
        .route("/status", get(runs::status))
        .route("/schedule", get(schedule::page).post(schedule::save))
        .route("/segments", get(segments::list))
        .route("/segments/new", get(segments::new).post(segments::create))
        .route("/segments/{id}", get(segments::page).post(segments::update))
        .route("/segments/{id}/active", post(segments::set_active))
        .route("/audit", get(audit::page))
        .route("/system", get(system::page))
        .route("/system/webhooks/test", post(system::test_webhooks))
        .route("/users", get(users::list).post(users::add))
        .route(
            "/exclusions",
            get(exclusions::page).post(exclusions::change),
        )
        .route("/privacy", get(privacy::page))
        .route("/privacy/erasures", post(privacy::erase))
        .route("/privacy/erasures/{id}/retry", post(privacy::retry))
        .route("/privacy/lookup", post(privacy::lookup))
        .route("/users/{id}/{action}", post(users::change))
        .route("/account/tokens", get(tokens::page).post(tokens::create))
        .route("/account/tokens/{id}/revoke", post(tokens::revoke))
        .route(
            "/account/password",
            get(users::password_page).post(users::change_password),
        )
}
