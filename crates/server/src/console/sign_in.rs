//! Signing in and out in the browser, through the same sessions as the API.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

use super::page::{failure, render};
use super::visitor::Visitor;
use crate::auth::{new_token, secrets_match, session_token};
use crate::client_address::ClientAddress;
use crate::routes::session::{ended_session_cookie, session_cookie};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    next: String,
    username: String,
    problem: Option<String>,
    /// The sign-in form's own CSRF token, also in the `SIGN_IN_COOKIE` cookie.
    form_token: String,
}

/// Holds the sign-in form's CSRF token. A form posted from another site carries no such field
/// (and cannot read the cookie), so nobody can sign a browser in to an account of theirs.
const SIGN_IN_COOKIE: &str = "segsync_sign_in";

/// A sign-in page with a fresh form token, and the cookie that holds it.
fn sign_in_page(state: &AppState, page: &SignInPage) -> Response {
    let cookie = Cookie::build((SIGN_IN_COOKIE, page.form_token.clone()))
        .path("/sign-in")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .max_age(cookie::time::Duration::hours(1))
        .build();
    let mut response = render(page);
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The form token the sign-in cookie holds.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == SIGN_IN_COOKIE)
        .map(|cookie| cookie.value().to_owned())
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// Only paths of this site: a sign-in never sends the browser elsewhere.
fn safe_next(next: Option<String>) -> String {
    // Browsers read `//host` and `/\host` as another site, and drop tabs and newlines from
    // URLs, so `/\t/host` is `//host` too.
    next.filter(|next| {
        next.starts_with('/')
            && !next.starts_with("//")
            && !next.contains('\\')
            && !next.chars().any(char::is_control)
    })
    .unwrap_or_else(|| "/".to_owned())
}

pub(crate) async fn page(State(state): State<AppState>, Query(next): Query<Next>) -> Response {
    sign_in_page(
        &state,
        &SignInPage {
            next: safe_next(next.next),
            username: String::new(),
            problem: None,
            form_token: new_token(""),
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
    #[serde(default)]
    form_token: String,
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next);
    let from_this_site = !form.form_token.is_empty()
        && cookie_token(&headers).is_some_and(|token| secrets_match(&form.form_token, &token));
    if !from_this_site {
        let mut response = sign_in_page(
            &state,
            &SignInPage {
                next,
                username: form.username,
                problem: Some(
                    "this sign-in form has expired or came from another site; sign in again here"
                        .to_owned(),
                ),
                form_token: new_token(""),
            },
        );
        *response.status_mut() = StatusCode::FORBIDDEN;
        return response;
    }
    match state
        .app
        .sign_in(&form.username, form.password, client)
        .await
    {
        Ok(opened) => (session_cookie(&state, &opened), Redirect::to(&next)).into_response(),
        Err(error) => {
            let status = error.status;
            let mut response = sign_in_page(
                &state,
                &SignInPage {
                    next,
                    username: form.username,
                    problem: Some(error.message),
                    form_token: form.form_token,
                },
            );
            *response.status_mut() = status;
            response
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    pub(crate) csrf: String,
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(error) = visitor.check_form(&form.csrf) {
        return failure(error);
    }
    if let Some(token) = session_token(&headers)
        && let Err(error) = state.app.sign_out(&token).await
    {
        return failure(error);
    }
    (ended_session_cookie(), Redirect::to("/sign-in")).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn a_sign_in_only_returns_to_this_site() {
        assert_eq!(safe_next(Some("/exports/1?x=2".into())), "/exports/1?x=2");
        for elsewhere in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "exports",
            "/\t/evil.example",
            "/\n/evil.example",
            "/exports\r\nSet-Cookie: x=1",
        ] {
            assert_eq!(safe_next(Some(elsewhere.into())), "/", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
