//! The privacy page (admins): erase people (typed, pasted, or a CSV file of emails uploaded),
//! the erasures with their state and receipt (keyed hashes only) and a retry for failed ones,
//! and a subject access lookup of one address.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use segsync_app::privacy::{ErasureForm, ErasureRequested, ErasureView, SubjectAccess};
use uuid::Uuid;

use super::exclusions::AddressesForm;
use super::fields::Fields;
use super::page::{Nav, failure, render};
use super::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/privacy.html")]
struct PrivacyPage {
    nav: Nav,
    erasures: Vec<ErasureView>,
    /// The erasure just requested.
    requested: Option<ErasureRequested>,
    /// The address just looked up.
    access: Option<SubjectAccess>,
}

impl PrivacyPage {
    async fn load(state: &AppState, visitor: &Visitor) -> Result<Self, AppError> {
        let privacy = state.app.privacy(&visitor.caller, "see erasures")?;
        Ok(Self {
            nav: Nav::new(visitor, "privacy"),
            erasures: privacy.erasures().await?,
            requested: None,
            access: None,
        })
    }

    fn lists_removed_from(&self, erasure: &ErasureView) -> usize {
        erasure
            .receipt
            .people
            .iter()
            .flat_map(|person| &person.constant_contact)
            .map(|account| account.removed_from_lists.len())
            .sum()
    }

    fn short(&self, hash: &str) -> String {
        hash.chars().take(12).collect()
    }
}

pub(crate) async fn page(State(state): State<AppState>, visitor: Visitor) -> Response {
    match PrivacyPage::load(&state, &visitor).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

/// Erases the addresses typed in `emails` and those of an uploaded `file`.
pub(crate) async fn erase(
    State(state): State<AppState>,
    visitor: Visitor,
    request: axum::extract::Request,
) -> Response {
    // The role first, whatever the body: only admins erase.
    if let Err(error) = state.app.privacy(&visitor.caller, "erase people") {
        return failure(error);
    }
    let form = match AddressesForm::read(request, &state).await {
        Ok(form) => form,
        Err(error) => return failure(error),
    };
    if let Err(error) = visitor.check_form(&form.csrf) {
        return failure(error);
    }
    let done = async {
        let requested = state
            .app
            .privacy(&visitor.caller, "erase people")?
            .erase(&ErasureForm {
                emails: form.emails,
            })
            .await?;
        let mut page = PrivacyPage::load(&state, &visitor).await?;
        page.requested = Some(requested);
        Ok::<_, AppError>(page)
    };
    match done.await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

/// Carries a failed erasure out again.
pub(crate) async fn retry(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let retried = async {
        state
            .app
            .privacy(&visitor.caller, "retry erasures")?
            .retry(id)
            .await
    };
    match retried.await {
        Ok(_) => Redirect::to("/privacy").into_response(),
        Err(error) => failure(error),
    }
}

/// Shows what segsync holds about the address posted (a post, so the address stays out of
/// addresses and histories).
pub(crate) async fn lookup(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let done = async {
        let access = state
            .app
            .privacy(&visitor.caller, "look people up")?
            .lookup(fields.get("email"))
            .await?;
        let mut page = PrivacyPage::load(&state, &visitor).await?;
        page.access = Some(access);
        Ok::<_, AppError>(page)
    };
    match done.await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}
