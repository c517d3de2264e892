//! The exclusions page (admins): how many addresses no export may send, adding or removing
//! them — typed, pasted, or a CSV file of emails uploaded — and the exclusions source of the
//! configuration. Only keyed hashes are kept, so the page never lists an address.

use askama::Template;
use axum::extract::{FromRequest, Multipart, State};
use axum::response::Response;
use segsync_app::exclusions::{ExclusionsChange, ExclusionsForm, ExclusionsView};

use super::page::{Nav, failure, render};
use super::visitor::Visitor;
use crate::error::{AppError, Code};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/exclusions.html")]
struct ExclusionsPage {
    nav: Nav,
    view: ExclusionsView,
    /// What the last change did, and whether it added or removed.
    change: Option<(&'static str, ExclusionsChange)>,
}

async fn load(state: &AppState, visitor: &Visitor) -> Result<ExclusionsView, AppError> {
    state
        .app
        .exclusion_admin(&visitor.caller, "read the exclusions")?
        .list()
        .await
}

pub(crate) async fn page(State(state): State<AppState>, visitor: Visitor) -> Response {
    match load(&state, &visitor).await {
        Ok(view) => render(&ExclusionsPage {
            nav: Nav::new(&visitor, "exclusions"),
            view,
            change: None,
        }),
        Err(error) => failure(error),
    }
}

/// Adds or removes (`action`) the addresses typed in `emails` and those of an uploaded `file`.
pub(crate) async fn change(
    State(state): State<AppState>,
    visitor: Visitor,
    request: axum::extract::Request,
) -> Response {
    // The role first, whatever the body: only admins change exclusions.
    if let Err(error) = state
        .app
        .exclusion_admin(&visitor.caller, "change the exclusions")
    {
        return failure(error);
    }
    let AddressesForm {
        csrf,
        action,
        emails,
    } = match AddressesForm::read(request, &state).await {
        Ok(form) => form,
        Err(error) => return failure(error),
    };
    if let Err(error) = visitor.check_form(&csrf) {
        return failure(error);
    }
    let form = ExclusionsForm { emails };
    let done = async {
        let admin = state
            .app
            .exclusion_admin(&visitor.caller, "change the exclusions")?;
        if action == "remove" {
            Ok(("removed", admin.remove(&form).await?))
        } else {
            Ok(("added", admin.add(&form).await?))
        }
    };
    let change = match done.await {
        Ok(change) => change,
        Err(error) => return failure(error),
    };
    match load(&state, &visitor).await {
        Ok(view) => render(&ExclusionsPage {
            nav: Nav::new(&visitor, "exclusions"),
            view,
            change: Some(change),
        }),
        Err(error) => failure(error),
    }
}

/// A form of addresses, typed (`emails`) or uploaded (`file`), with its CSRF token and the
/// button pressed (`action`), as the exclusions and privacy pages post it.
pub(crate) struct AddressesForm {
    pub(crate) csrf: String,
    pub(crate) action: String,
    pub(crate) emails: Vec<String>,
}

impl AddressesForm {
    pub(crate) async fn read(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, AppError> {
        let unreadable = |error: &dyn std::fmt::Display| {
            AppError::new(
                Code::Invalid,
                format!("the form could not be read: {error}"),
            )
        };
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| unreadable(&rejection))?;
        let mut form = Self {
            csrf: String::new(),
            action: String::new(),
            emails: Vec::new(),
        };
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|error| unreadable(&error))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let text = field.text().await.map_err(|error| {
                AppError::new(Code::Invalid, format!("{name}: not text: {error}"))
            })?;
            match name.as_str() {
                "csrf" => form.csrf = text,
                "action" => form.action = text,
                "emails" | "file" if !text.trim().is_empty() => form.emails.push(text),
                _ => {}
            }
        }
        Ok(form)
    }
}
