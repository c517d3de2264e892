//! System (admins): what the server reads its profiles from, whether that source opens now,
//! and its schema; the cluster it evaluates segments on; the alert webhooks, with a test post and each one's last delivery; today's
//! Constant Contact requests per API key; and the build. The page shows what the application's
//! system and alert handles give the visitor.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::Response;
use segsync_app::alerts::{TestPost, WebhookView};
use segsync_app::privacy::retention::HeldView;
use segsync_app::system::{AboutView, ClusterView, ProfileSourceView, QuotaView};

use super::fields::Fields;
use super::page::{Nav, failure, render};
use super::visitor::Visitor;
use crate::error::AppError;
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
    /// What the store holds that ages out.
    held: HeldView,
    /// The cluster segments are evaluated on, as its scheduler says now.
    cluster: ClusterView,
    about: AboutView,
}

impl SystemPage {
    async fn load(state: AppState, visitor: &Visitor) -> Result<Self, AppError> {
        let system = state.app.system(&visitor.caller, "see the system page")?;
        let alerts = state
            .app
            .alert_admin(&visitor.caller, "see the alert webhooks")?;
        let about = system.about();
        let quota = system.quota().await?;
        let webhooks = alerts.webhooks().await?;
        let source = system.profile_source().await;
        let cluster = system.cluster().await;
        let held = state
            .app
            .privacy(&visitor.caller, "see what is held")?
            .held()
            .await?;
        Ok(Self {
            nav: Nav::new(visitor, "system"),
            source,
            webhooks,
            tested: Vec::new(),
            quota,
            held,
            cluster,
            about,
        })
    }

    fn when(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map_or_else(
            || "—".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
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
    let tested = match state
        .app
        .alert_admin(&visitor.caller, "test the alert webhooks")
    {
        Ok(alerts) => match alerts.test().await {
            Ok(tested) => tested,
            Err(error) => return failure(error),
        },
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
