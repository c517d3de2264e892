//! The OpenAPI document at `/api/openapi.json`, generated from the routes themselves: each
//! handler carries its `#[utoipa::path]`, and the router registers handlers through
//! `utoipa_axum::routes!`, so a route cannot exist without its description.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::auth::SESSION_COOKIE;
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "segsync",
        description = "Segments of unified customer profiles, exported to Constant Contact lists. \
            Errors answer `{ \"code\": \"...\", \"message\": \"...\" }` with a stable code. \
            Lists take `limit` and `offset` and give the next page's offset in `X-Next-Offset`."
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "session", description = "Signing in and API tokens"),
        (name = "users", description = "Users and the audit log (admins)"),
        (name = "connections", description = "Constant Contact connections (admins create them)"),
        (name = "exclusions", description = "Addresses no export may send, kept as keyed hashes (admins)"),
        (name = "privacy", description = "Erasure per person, subject access and retention (admins)"),
        (name = "segments", description = "Rule trees over profile attributes"),
        (name = "exports", description = "Segments to a Constant Contact list; saving never runs them"),
        (name = "runs", description = "Runs of exports: on demand, Run all, on schedule"),
        (name = "schedule", description = "The system refresh schedule"),
        (name = "alerts", description = "Webhooks told of failed runs and connections to re-authenticate (admins)"),
        (name = "system", description = "What the server reads its profiles from (admins)"),
        (name = "health", description = "Liveness, readiness and metrics"),
    ),
    modifiers(&Authentication)
)]
pub(crate) struct ApiDoc;

/// The name of the shared error response in the document's components.
const ERROR_RESPONSE: &str = "Error";

/// Both ways to authenticate, required by every operation unless it says otherwise.
struct Authentication;

impl Modify for Authentication {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie set by POST /api/v1/session; changes also need the \
                 `x-csrf-token` header",
            ))),
        );
        document.security = Some(vec![
            SecurityRequirement::new("token", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// Completes the generated document: every operation may answer the shared error shape, and
/// the routes anyone may call say so.
pub(crate) fn complete(mut document: Document) -> Document {
    let error = ResponseBuilder::new()
        .description("An error: 401 without credentials, 403 when the role may not, 404, 408, 409, 422 with the field or rule, 429 with `Retry-After` (busy, locked, the day's quota spent), 5xx")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))))
                .build(),
        )
        .build();
    document
        .components
        .get_or_insert_with(Default::default)
        .responses
        .insert(ERROR_RESPONSE.to_owned(), RefOr::T(error));
    for (path, item) in &mut document.paths.paths {
        let public = matches!(
            path.as_str(),
            "/healthz" | "/readyz" | "/oauth/callback" | "/api/v1/session"
        );
        for operation in operations(item) {
            if takes_a_page(operation) {
                describe_paging_headers(operation);
            }
            operation
                .responses
                .responses
                .entry("default".to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(ERROR_RESPONSE)));
            if public {
                operation.security = Some(vec![SecurityRequirement::default()]);
            }
        }
    }
    document
}

fn takes_a_page(operation: &Operation) -> bool {
    operation
        .parameters
        .iter()
        .flatten()
        .any(|parameter| matches!(parameter, RefOr::T(parameter) if parameter.name == "offset"))
}

/// The headers of a page of a list (see `routes::paging`).
fn describe_paging_headers(operation: &mut Operation) {
    let Some(RefOr::T(page)) = operation.responses.responses.get_mut("200") else {
        return;
    };
    for (name, description) in [
        (
            "x-next-offset",
            "The offset of the next page, while there is one",
        ),
        ("x-total-count", "How many entries there are, where known"),
    ] {
        let header = HeaderBuilder::new()
            .schema(Some(Object::with_type(Type::Integer)))
            .description(Some(description))
            .build();
        page.headers.insert(name.to_owned(), RefOr::T(header));
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}
