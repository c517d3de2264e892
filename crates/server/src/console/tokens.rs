//! Each user's own API tokens: make one (shown once), see when each was last used, revoke.
//! Every role has its own; the page calls the API's handlers as the visitor.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::fields::Fields;
use super::page::{Nav, Problems, act, failure, invalid, render};
use super::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use segsync_app::users::{ApiTokenView, NewToken};

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    nav: Nav,
    tokens: Vec<ApiTokenView>,
    problems: Problems,
    /// The name and expiry as submitted, when they have problems.
    name: String,
    expires_in_days: String,
    /// A token just made: its name and the token itself, shown once.
    created: Option<(String, String)>,
}

impl TokensPage {
    async fn load(state: AppState, visitor: &Visitor) -> Result<Self, AppError> {
        let tokens = state.app.account(&visitor.caller).tokens().await?;
        Ok(Self {
            nav: Nav::new(visitor, "tokens"),
            tokens,
            problems: Problems::default(),
            name: String::new(),
            expires_in_days: "90".to_owned(),
            created: None,
        })
    }

    /// When a token was last used, in words.
    fn last_used(&self, token: &ApiTokenView) -> String {
        token.last_used_at.map_or_else(
            || "never".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    }

    fn expires(&self, token: &ApiTokenView) -> String {
        token.expires_at.map_or_else(
            || "when revoked".to_owned(),
            |at| at.format("%Y-%m-%d").to_string(),
        )
    }
}

pub(crate) async fn page(State(state): State<AppState>, visitor: Visitor) -> Response {
    match TokensPage::load(state, &visitor).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let name = fields.get("name").to_owned();
    let expires_in_days = fields.get("expires_in_days").trim().to_owned();
    let mut problems = Problems::default();
    let mut created = None;
    match parse_days(&expires_in_days) {
        Err(problem) => problems.at("expires_in_days", problem),
        Ok(days) => {
            let new = NewToken {
                name: name.clone(),
                expires_in_days: days,
                scope: segsync_domain::TokenScope::parse(fields.get("scope")).unwrap_or_default(),
            };
            match state.app.account(&visitor.caller).create_token(&new).await {
                Ok(made) => created = Some((made.record.name, made.token)),
                Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
                    problems = Problems::from_error(&error);
                }
                Err(error) => return failure(error),
            }
        }
    }
    let mut page = match TokensPage::load(state, &visitor).await {
        Ok(page) => page,
        Err(error) => return failure(error),
    };
    if created.is_some() {
        page.created = created;
        return render(&page);
    }
    page.name = name;
    page.expires_in_days = expires_in_days;
    page.problems = problems;
    invalid(&page)
}

/// Days as typed: blank is no expiry.
fn parse_days(typed: &str) -> Result<Option<u32>, &'static str> {
    if typed.is_empty() {
        return Ok(None);
    }
    typed
        .parse()
        .map(Some)
        .map_err(|_| "a whole number of days, or blank for no expiry")
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    let revoking = async { state.app.account(&visitor.caller).revoke_token(id).await };
    act(&visitor, &fields, revoking, |_| {
        "/account/tokens".to_owned()
    })
    .await
}
