//! System (admins): what the server reads its profiles from, whether that source opens now,
//! and its schema; the alert webhooks, with a test post and each one's last delivery; today's
//! Constant Contact requests per API key; and the build. The page calls the API's handlers as
//! the visitor.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::{Form, Json};

use super::fields::Fields;
use super::page::{Nav, failure, render};
use super::visitor::Visitor;
use crate::alerts::TestPost;
use crate::error::AppError;
use crate::routes::alerts::{self, WebhookView};
use crate::routes::server_info::{self, AboutView, QuotaView};
use crate::routes::system::{self, ProfileSourceView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/system.html")]
struct SystemPage {
    nav: Nav,
    source: ProfileSourceView,
    webhooks: Vec<WebhookView>,
    /// What a test post just gave, per webhook.
    tested: Vec<TestPost>,
    quota: Vec<QuotaView>,
    about: AboutView,
}

impl SystemPage {
    async fn load(state: AppState, visitor: &Visitor) -> Result<Self, AppError> {
        let caller = visitor.caller.clone();
        let Json(about) = server_info::about(State(state.clone()), caller.clone()).await?;
        let Json(quota) = server_info::quota(State(state.clone()), caller.clone()).await?;
        let Json(webhooks) = alerts::list(State(state.clone()), caller.clone()).await?;
        let Json(source) = system::profiles(State(state), caller).await?;
        Ok(Self {
            nav: Nav::new(visitor, "system"),
            source,
            webhooks,
            tested: Vec::new(),
            quota,
            about,
        })
    }

    /// The share of the day's budget used and reserved, as a whole percentage for a meter.
    fn percent_taken(&self, quota: &QuotaView) -> u64 {
        quota.requests_per_day.map_or(0, |limit| {
            ((quota.used + quota.reserved) * 100)
                .checked_div(limit)
                .unwrap_or(0)
                .min(100)
        })
    }

    fn events(&self, webhook: &WebhookView) -> String {
        if webhook.events.is_empty() {
            "every event".to_owned()
        } else {
            webhook.events.join(", ")
        }
    }
}

pub(crate) async fn page(State(state): State<AppState>, visitor: Visitor) -> Response {
    match SystemPage::load(state, &visitor).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

/// Posts a test to every webhook, then shows the page with what each answered.
pub(crate) async fn test_webhooks(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let tested = match alerts::test(State(state.clone()), visitor.caller.clone()).await {
        Ok(Json(tested)) => tested,
        Err(error) => return failure(error),
    };
    match SystemPage::load(state, &visitor).await {
        Ok(mut page) => {
            page.tested = tested;
            render(&page)
        }
        Err(error) => failure(error),
    }
}
