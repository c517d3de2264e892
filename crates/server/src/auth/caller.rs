//! The caller of a request, found from an API token (`Authorization: Bearer sgs_…`) or a
//! session cookie. A browser session must also send its CSRF token with every request that
//! changes something, so another site cannot make the browser act for its user.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use segsync_store::User;

use crate::error::{AppError, Code};
use crate::state::AppState;
use segsync_app::secrets::secrets_match;
use segsync_app::sessions::FoundSession;

pub const SESSION_COOKIE: &str = "segsync_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The application's caller (`segsync_app::Caller`, which it derefs to), with what the request
/// proved it with.
#[derive(Debug, Clone)]
pub struct Caller {
    caller: segsync_app::Caller,
    /// The session's CSRF token; none for API tokens.
    pub csrf_token: Option<String>,
}

impl Caller {
    pub fn new(user: User, csrf_token: Option<String>) -> Self {
        Self {
            caller: segsync_app::Caller::new(user),
            csrf_token,
        }
    }
}

impl Caller {
    /// The caller of a browser session, with the CSRF token it must send with changes.
    pub fn signed_in(session: FoundSession) -> Self {
        Self {
            caller: session.caller,
            csrf_token: Some(session.csrf_token),
        }
    }
}

impl std::ops::Deref for Caller {
    type Target = segsync_app::Caller;

    fn deref(&self) -> &segsync_app::Caller {
        &self.caller
    }
}

/// The value of the session cookie, if the request carries one.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            let caller = state.app.caller_by_api_token(token).await?;
            tracing::Span::current().record("caller", caller.user.username.as_str());
            if let Some(token) = caller.token
                && !token.scope.allows(parts.method.as_str(), parts.uri.path())
            {
                return Err(AppError::new(
                    Code::Forbidden,
                    format!(
                        "this API token's scope is {}: it may do {}",
                        token.scope.as_str(),
                        token.scope.says()
                    ),
                ));
            }
            return Ok(Self {
                caller,
                csrf_token: None,
            });
        }
        let token = session_token(&parts.headers).ok_or_else(AppError::unauthenticated)?;
        let session = state.app.session(&token).await?;
        let changes_something =
            !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if changes_something {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok());
            if !sent.is_some_and(|sent| secrets_match(sent, &session.csrf_token)) {
                return Err(AppError::new(
                    Code::Csrf,
                    format!(
                        "a signed-in browser must send its CSRF token in the {CSRF_HEADER} header"
                    ),
                ));
            }
        }
        tracing::Span::current().record("caller", session.caller.user.username.as_str());
        Ok(Self::signed_in(session))
    }
}
