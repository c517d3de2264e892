//! Signing in and out. A sign-in sets an HttpOnly, SameSite=Lax session cookie (Secure behind
//! TLS) and returns the CSRF token the browser sends back with every change. Failed attempts
//! are counted per username; too many lock it for a while.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use cookie::{Cookie, SameSite};
use segsync_app::users::UserView;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, SESSION_COOKIE, hash_password, hash_token, new_token, session_token};
use crate::error::{AppError, Code};
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
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Json(form): Json<SignIn>,
) -> Result<Response, AppError> {
    let now = Utc::now();
    let address = client.ip();
    if let Some(wait) = state.sign_in_addresses.locked_for(address, Instant::now()) {
        return Err(AppError::new(
            Code::SignInLocked,
            format!(
                "too many failed sign-ins from this address; try again in {} minutes",
                wait.as_secs().div_ceil(60)
            ),
        ));
    }
    let throttle = state.store.login_throttle(&form.username).await?;
    if let Some(until) = throttle.locked_until.filter(|until| *until > now) {
        return Err(AppError::new(
            Code::SignInLocked,
            format!(
                "too many failed sign-ins; try again after {}",
                until.format("%H:%M UTC")
            ),
        ));
    }
    let user = state.store.user_by_username(&form.username).await?;
    // Unknown usernames spend the same effort, so timing does not tell which exist.
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |user| user.password_hash.clone());
    let matches = state.app.passwords().verify(hash, form.password).await;
    let verified = matches && user.as_ref().is_some_and(|user| !user.disabled);
    let known = user.is_some();
    let Some(user) = user.filter(|_| verified) else {
        state.sign_in_addresses.failed(address, Instant::now());
        if known {
            // Only usernames that exist are locked in the store: guesses write nothing.
            let lock_until = now + Duration::minutes(i64::from(state.config.login_lock_minutes));
            state
                .store
                .record_login_failure(&form.username, state.config.login_max_failures, lock_until)
                .await?;
        }
        return Err(AppError::new(
            Code::InvalidCredentials,
            "the username or the password is wrong",
        ));
    };
    state.sign_in_addresses.succeeded(address);
    state.store.clear_login_failures(&form.username).await?;
    let token = new_token("");
    let csrf_token = new_token("");
    let expires_at = now + Duration::hours(i64::from(state.config.session_hours));
    state
        .store
        .create_session(&hash_token(&token), user.id, &csrf_token, expires_at)
        .await?;
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .max_age(cookie::time::Duration::hours(i64::from(
            state.config.session_hours,
        )))
        .build();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie.to_string()).expect("a cookie is a valid header"),
    );
    Ok((
        headers,
        Json(SignedIn {
            user: user.into(),
            csrf_token,
        }),
    )
        .into_response())
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
        state.store.delete_session(&hash_token(&token)).await?;
    }
    let cookie = Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie.to_string()).expect("a cookie is a valid header"),
    );
    Ok((StatusCode::NO_CONTENT, headers).into_response())
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

/// An argon2id hash of a random password, checked against when the username is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    hash_password(&new_token("")).expect("a long random password hashes")
});
