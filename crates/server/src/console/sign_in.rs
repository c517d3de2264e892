//! Signing in and out in the browser, through the same sessions as the API.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{failure, render};
use super::visitor::Visitor;
use crate::routes::session::{self, SignIn};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    next: String,
    username: String,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// Only paths of this site: a sign-in never sends the browser elsewhere.
fn safe_next(next: Option<String>) -> String {
    // Browsers read `//host` and `/\host` as another site.
    next.filter(|next| next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'))
        .unwrap_or_else(|| "/exports".to_owned())
}

pub(crate) async fn page(Query(next): Query<Next>) -> Response {
    render(&SignInPage {
        next: safe_next(next.next),
        username: String::new(),
        problem: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next);
    let answer = session::sign_in(
        State(state),
        axum::Json(SignIn {
            username: form.username.clone(),
            password: form.password,
        }),
    )
    .await;
    match answer {
        Ok(response) => {
            let mut headers = HeaderMap::new();
            if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
                headers.insert(header::SET_COOKIE, cookie.clone());
            }
            (headers, Redirect::to(&next)).into_response()
        }
        Err(error) => {
            let status = error.status;
            let mut response = render(&SignInPage {
                next,
                username: form.username,
                problem: Some(error.message),
            });
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
    match session::sign_out(State(state), visitor.caller, headers).await {
        Ok(response) => {
            let mut headers = HeaderMap::new();
            if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
                headers.insert(header::SET_COOKIE, cookie.clone());
            }
            (headers, Redirect::to("/sign-in")).into_response()
        }
        Err(error) => failure(error),
    }
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
        ] {
            assert_eq!(safe_next(Some(elsewhere.into())), "/exports", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/exports");
    }
}
