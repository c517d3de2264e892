//! What admins do with the alert webhooks: see which are configured and how their last post
//! went, and send each a test post.

use serde::Serialize;

use super::last_delivery::{self, LastDelivery};
use super::{TestPost, test_every_webhook};
use crate::App;
use crate::audit::{Subject, record};
use crate::caller::Admin;
use crate::error::AppError;

/// A configured webhook, without its URL's path or its secret, which may hold tokens.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    /// Its place in `[[alerts.webhooks]]`, from 0.
    pub webhook: usize,
    pub host: String,
    /// The events it is sent; every event when empty.
    pub events: Vec<&'static str>,
    /// Whether its posts are signed.
    pub signed: bool,
    /// Its last post (an alert or a test) and what it answered.
    pub last_delivery: Option<LastDelivery>,
}

/// The alert webhooks, for an admin.
pub struct AlertAdmin<'a> {
    app: &'a App,
    admin: Admin<'a>,
}

impl<'a> AlertAdmin<'a> {
    pub(crate) fn new(app: &'a App, admin: Admin<'a>) -> Self {
        Self { app, admin }
    }

    /// Every configured webhook, in the configuration's order.
    pub async fn webhooks(&self) -> Result<Vec<WebhookView>, AppError> {
        let mut views = Vec::new();
        for (index, webhook) in self.app.alerts.webhooks.iter().enumerate() {
            views.push(WebhookView {
                webhook: index,
                host: webhook.url.host_str().unwrap_or("").to_owned(),
                events: webhook.events.iter().map(|event| event.as_str()).collect(),
                signed: webhook.secret.is_some(),
                last_delivery: last_delivery::read(self.app, webhook).await?,
            });
        }
        Ok(views)
    }

    /// Posts a `ping` event to every webhook and says what each answered; the test is in the
    /// audit log.
    pub async fn test(&self) -> Result<Vec<TestPost>, AppError> {
        let posts = test_every_webhook(self.app).await;
        record(
            self.app.store(),
            Some(self.admin.caller().user.id),
            "tested",
            Subject {
                kind: "alerts",
                id: "webhooks".to_owned(),
                name: "alert webhooks",
            },
            Some(serde_json::to_value(&posts).expect("results serialise")),
        )
        .await?;
        Ok(posts)
    }
}
