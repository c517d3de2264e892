//! The routes of the server. Each module holds one resource; each handler takes a
//! [`Caller`](crate::auth::Caller) and checks its role first, and carries its OpenAPI
//! description, which the router collects as it registers the handler.

pub(crate) mod accounts;
pub(crate) mod alerts;
pub(crate) mod connections;
pub(crate) mod exclusions;
mod exports;
mod health;
mod json_errors;
mod metrics;
pub(crate) mod oauth;
pub(crate) mod paging;
pub(crate) mod privacy;
pub(crate) mod run_days;
pub(crate) mod runs;
pub(crate) mod schedule;
pub(crate) mod segments;
pub(crate) mod session;
pub(crate) mod system;
pub(crate) mod tokens;
pub(crate) mod triggers;
pub(crate) mod users;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::{ApiDoc, complete};
use crate::state::AppState;

pub(crate) fn router(state: AppState) -> Router {
    let request_limit = std::time::Duration::from_secs(state.config.request_seconds);
    let (router, document) = described_routes().split_for_parts();
    let document = complete(document);
    let authorization = &state.config.constant_contact.auth_base_url;
    let policy = crate::security_headers::content_security_policy(
        &authorization.origin().ascii_serialization(),
    );
    router
        .merge(crate::console::router())
        .route(
            "/api/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document) }
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            json_errors::MAX_REQUEST_BODY,
        ))
        .layer(axum::middleware::from_fn(move |request, next| {
            crate::http_server::request_timeout(request_limit, request, next)
        }))
        .layer(axum::middleware::from_fn(json_errors::json_errors))
        .layer(axum::middleware::from_fn(move |request, next| {
            crate::security_headers::security_headers(policy.clone(), request, next)
        }))
        .layer(axum::middleware::from_fn(crate::request_span::request_span))
        .with_state(state)
}

/// Every route with its description. One `routes!` per path.
fn described_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(metrics::metrics))
        .routes(routes!(oauth::callback))
        .routes(routes!(session::sign_in, session::sign_out))
        .routes(routes!(session::me))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::audit_log))
        .routes(routes!(tokens::list_of_user))
        .routes(routes!(tokens::revoke_of_user))
        .routes(routes!(accounts::disable))
        .routes(routes!(accounts::enable))
        .routes(routes!(accounts::unlock))
        .routes(routes!(accounts::change_role))
        .routes(routes!(accounts::sign_out_everywhere))
        .routes(routes!(accounts::change_password))
        .routes(routes!(connections::list, connections::create))
        .routes(routes!(connections::consent_text))
        .routes(routes!(
            connections::get,
            connections::update,
            connections::remove
        ))
        .routes(routes!(oauth::start))
        .routes(routes!(connections::become_export_user))
        .routes(routes!(connections::opt_outs))
        .routes(routes!(exclusions::list, exclusions::add))
        .routes(routes!(exclusions::remove))
        .routes(routes!(privacy::erase, privacy::erasures))
        .routes(routes!(privacy::erasure))
        .routes(routes!(privacy::retry))
        .routes(routes!(privacy::lookup))
        .routes(routes!(privacy::held))
        .routes(routes!(triggers::source_changed))
        .routes(routes!(triggers::dbt_cloud))
        .routes(routes!(connections::lists))
        .routes(routes!(connections::custom_fields))
        .routes(routes!(schedule::get, schedule::put))
        .routes(routes!(alerts::list))
        .routes(routes!(alerts::test))
        .routes(routes!(system::profiles))
        .routes(routes!(system::about))
        .routes(routes!(system::quota))
        .routes(routes!(system::cluster))
        .routes(routes!(exports::list, exports::create))
        .routes(routes!(exports::get, exports::update, exports::remove))
        .routes(routes!(exports::duplicate))
        .routes(routes!(exports::detach))
        .routes(routes!(runs::run_all))
        .routes(routes!(runs::run_now))
        .routes(routes!(runs::verify_now))
        .routes(routes!(runs::dry_run))
        .routes(routes!(runs::history))
        .routes(routes!(runs::list))
        .routes(routes!(run_days::per_day))
        .routes(routes!(runs::get))
        .routes(routes!(runs::cancel))
        .routes(routes!(runs::confirm))
        .routes(routes!(runs::discard))
        .routes(routes!(runs::skipped_csv))
        .routes(routes!(segments::list, segments::create))
        .routes(routes!(segments::validate))
        .routes(routes!(segments::export_yaml, segments::import_yaml))
        .routes(routes!(segments::get, segments::update, segments::remove))
        .routes(routes!(segments::activate))
        .routes(routes!(segments::deactivate))
        .routes(routes!(segments::preview))
}
