//! The routes of the server. Each module holds one resource; each handler takes a
//! [`Caller`](crate::auth::Caller) and checks its role first.

mod connections;
mod exports;
mod health;
mod metrics;
mod oauth;
mod paging;
mod runs;
mod schedule;
mod segments;
mod session;
mod tokens;
mod users;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/session", post(session::sign_in).delete(session::sign_out))
        .route("/me", get(session::me))
        .route("/me/tokens", get(tokens::list).post(tokens::create))
        .route("/me/tokens/{id}", delete(tokens::revoke))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/connections",
            get(connections::list).post(connections::create),
        )
        .route("/connections/consent-text", get(connections::consent_text))
        .route(
            "/connections/{id}",
            get(connections::get)
                .patch(connections::update)
                .delete(connections::remove),
        )
        .route("/connections/{id}/authorize", post(oauth::start))
        .route(
            "/connections/{id}/export-user",
            post(connections::become_export_user),
        )
        .route("/connections/{id}/lists", get(connections::lists))
        .route("/schedule", get(schedule::get).put(schedule::put))
        .route("/exports", get(exports::list).post(exports::create))
        .route(
            "/exports/{id}",
            get(exports::get)
                .put(exports::update)
                .delete(exports::remove),
        )
        .route("/exports/{id}/duplicate", post(exports::duplicate))
        .route("/exports/{id}/detach", post(exports::detach))
        .route("/exports/run-all", post(runs::run_all))
        .route("/exports/{id}/run", post(runs::run_now))
        .route("/exports/{id}/runs", get(runs::history))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::get))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/validate", post(segments::validate))
        .route(
            "/segments/yaml",
            get(segments::export_yaml).post(segments::import_yaml),
        )
        .route(
            "/segments/{id}",
            get(segments::get)
                .put(segments::update)
                .delete(segments::remove),
        )
        .route("/segments/{id}/activate", post(segments::activate))
        .route("/segments/{id}/deactivate", post(segments::deactivate))
        .route("/segments/{id}/preview", get(segments::preview))
        .route("/audit", get(users::audit_log));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/oauth/callback", get(oauth::callback))
        .nest("/api/v1", api)
        .with_state(state)
}
