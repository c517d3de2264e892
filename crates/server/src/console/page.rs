//! What every page shares: the navigation, rendering, problems shown next to their fields, and
//! the page for errors that have no form to go back to.

use std::collections::BTreeMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::fields::Fields;
use super::visitor::Visitor;
use crate::error::AppError;

/// The header of every page: who is signed in, and the sections their role may use.
pub(crate) struct Nav {
    pub(crate) user: String,
    pub(crate) role: &'static str,
    pub(crate) admin: bool,
    pub(crate) csrf: String,
    /// The section the page belongs to, marked in the navigation.
    pub(crate) section: &'static str,
}

impl Nav {
    pub(crate) fn new(visitor: &Visitor, section: &'static str) -> Self {
        Self {
            user: visitor.caller.user.display_name.clone(),
            role: visitor.caller.user.role.as_str(),
            admin: visitor.is_admin(),
            csrf: visitor.csrf().to_owned(),
            section,
        }
    }

    pub(crate) fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// Renders a page.
pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => failure(AppError::internal(format!(
            "a page did not render: {error}"
        ))),
    }
}

#[derive(Template)]
#[template(path = "console/failure.html")]
struct FailurePage {
    status: u16,
    message: String,
}

/// A page that says what went wrong, with the API error's status.
pub(crate) fn failure(error: AppError) -> Response {
    let page = FailurePage {
        status: error.status.as_u16(),
        message: error.message,
    };
    let html = page
        .render()
        .unwrap_or_else(|_| "segsync: something went wrong".to_owned());
    (error.status, Html(html)).into_response()
}

/// Problems with a form: each next to its field, the rest above the form.
#[derive(Default)]
pub(crate) struct Problems {
    pub(crate) general: Vec<String>,
    fields: BTreeMap<String, String>,
}

impl Problems {
    /// Places an API error: at the field it names (in `details.field`, or before the first
    /// colon of its message), else above the form.
    pub(crate) fn from_error(error: &AppError) -> Self {
        let mut problems = Self::default();
        let named = error
            .details
            .as_ref()
            .and_then(|details| details["field"].as_str())
            .map(str::to_owned)
            .or_else(|| {
                error
                    .message
                    .split_once(": ")
                    .map(|(field, _)| field.to_owned())
                    .filter(|field| !field.contains(' '))
            });
        match named {
            Some(field) => {
                let message = error
                    .message
                    .strip_prefix(&format!("{field}: "))
                    .unwrap_or(&error.message)
                    .to_owned();
                problems.fields.insert(field, message);
            }
            None => problems.general.push(error.message.clone()),
        }
        problems
    }

    pub(crate) fn at(&mut self, field: &str, problem: impl Into<String>) {
        self.fields.insert(field.to_owned(), problem.into());
    }

    /// The problem with `field`, if any.
    pub(crate) fn field(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// `true` when `field` has a problem, for `aria-invalid`.
    pub(crate) fn invalid(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.general.is_empty() && self.fields.is_empty()
    }

    /// Problems of fields that the form does not show, so that none is lost.
    pub(crate) fn elsewhere(&self, shown: &[&str]) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(field, _)| !shown.iter().any(|shown| field.starts_with(shown)))
            .map(|(field, problem)| format!("{field}: {problem}"))
            .chain(self.general.iter().cloned())
            .collect()
    }
}

/// Carries out a form's action once its CSRF token checks out, then sends the browser to the
/// page `next` names; a refusal or failure shows its own page.
pub(crate) async fn act<T>(
    visitor: &Visitor,
    fields: &Fields,
    action: impl Future<Output = Result<T, AppError>>,
    next: impl FnOnce(T) -> String,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    match action.await {
        Ok(done) => Redirect::to(&next(done)).into_response(),
        Err(error) => failure(error),
    }
}

/// A form answered with its problems: 422 with the page.
pub(crate) fn invalid(page: &impl Template) -> Response {
    let mut response = render(page);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}
