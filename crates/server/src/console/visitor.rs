//! Who is looking at a console page: a signed-in browser session. Without one, pages send the
//! browser to the sign-in page and back. Forms carry the session's CSRF token in a hidden
//! field, since a plain HTML form cannot send a header.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use segsync_store::Role;

use crate::auth::{Caller, session_token};
use crate::error::AppError;
use crate::state::AppState;

pub(crate) struct Visitor {
    pub(crate) caller: Caller,
}

impl Visitor {
    pub(crate) fn csrf(&self) -> &str {
        self.caller.csrf_token.as_deref().unwrap_or_default()
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub(crate) fn check_form(&self, sent: &str) -> Result<(), AppError> {
        if !sent.is_empty() && crate::auth::secrets_match(sent, self.csrf()) {
            Ok(())
        } else {
            Err(AppError::new(
                crate::error::Code::Csrf,
                "this form has expired; reload the page and try again",
            ))
        }
    }

    pub(crate) fn is_admin(&self) -> bool {
        self.caller.user.role == Role::Admin
    }

    pub(crate) fn may_edit(&self) -> bool {
        self.caller.user.role >= Role::Contributor
    }
}

/// Sends the browser to the sign-in page, to come back to `next`.
pub(crate) struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let next = url::form_urlencoded::byte_serialize(self.0.as_bytes()).collect::<String>();
        Redirect::to(&format!("/sign-in?next={next}")).into_response()
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string);
        let Some(token) = session_token(&parts.headers) else {
            return Err(SignInFirst(here).into_response());
        };
        let session = state
            .app
            .session_if_open(&token)
            .await
            .map_err(super::page::failure)?;
        match session {
            Some(session) => Ok(Self {
                caller: Caller::signed_in(session),
            }),
            None => Err(SignInFirst(here).into_response()),
        }
    }
}
