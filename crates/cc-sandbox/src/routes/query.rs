//! Query strings read as Constant Contact reads them: one that does not parse — a repeated
//! parameter, a value of the wrong type — answers 400 with the JSON error array, never text.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::errors;

/// `Query<T>` whose rejection is Constant Contact's 400.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(query)| ApiQuery(query))
            .map_err(|rejection| {
                errors::validation(&[format!(
                    "The query string is not valid: {}.",
                    rejection.body_text()
                )])
            })
    }
}
