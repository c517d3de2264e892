//! Signing in and out over the API: the application opens and ends the session; a sign-in sets
//! an HttpOnly, SameSite=Lax session cookie (Secure behind TLS) and returns the CSRF token the
//! browser sends back with every change.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use segsync_app::sessions::OpenedSession;
use segsync_app::users::UserView;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, SESSION_COOKIE, session_token};
use crate::client_address::ClientAddress;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct SignIn {
    pub(crate) username: String,
    pub(crate) password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SignedIn {
    pub(crate) user: UserView,
    pub(crate) csrf_token: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/session",
    operation_id = "session_sign_in",
    tag = "session",
    responses(
        (status = OK, description = "Signed in: the session cookie is set; send `csrf_token` as `x-csrf-token` with every change", body = SignedIn),
    )
)]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(form): Json<SignIn>,
) -> Result<Response, AppError> {
    let opened = state
        .app
        .sign_in(&form.username, form.password, client)
        .await?;
    Ok((
        session_cookie(&state, &opened),
        Json(SignedIn {
            user: opened.user.into(),
            csrf_token: opened.csrf_token,
        }),
    )
        .into_response())
}

/// The `Set-Cookie` header of a session just opened: HttpOnly, SameSite=Lax, Secure behind
/// TLS, lasting as long as the session.
pub(crate) fn session_cookie(state: &AppState, opened: &OpenedSession) -> HeaderMap {
    let cookie = Cookie::build((SESSION_COOKIE, opened.token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .max_age(cookie::time::Duration::seconds(opened.lasts.num_seconds()))
        .build();
    set_cookie(&cookie)
}

/// The `Set-Cookie` header that removes the session cookie.
pub(crate) fn ended_session_cookie() -> HeaderMap {
    let cookie = Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    set_cookie(&cookie)
}

/// A `Set-Cookie` header of `cookie`.
fn set_cookie(cookie: &Cookie<'_>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie.to_string()).expect("a cookie is a valid header"),
    );
    headers
}

/// Ends the caller's session. (An API token is revoked under `/me/tokens` instead.)
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    operation_id = "session_sign_out",
    tag = "session",
    responses(
        (status = NO_CONTENT, description = "Signed out"),
    )
)]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    _caller: Caller,
    request: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(token) = session_token(&request) {
        state.app.sign_out(&token).await?;
    }
    Ok((StatusCode::NO_CONTENT, ended_session_cookie()).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "session_me",
    tag = "session",
    responses(
        (status = OK, description = "Done", body = UserView),
    )
)]
pub(crate) async fn me(caller: Caller) -> Json<UserView> {
    Json(caller.user.clone().into())
}
