//! Each webhook's last post — an alert or a test — and what it answered, kept in the store so
//! that every node shows the same, whichever node sent it.

use chrono::{DateTime, Utc};
use segsync_domain::ChainExt;
use serde::{Deserialize, Serialize};

use super::config::WebhookConfig;
use super::cursor_key;
use super::webhook::PostFailure;
use crate::App;

/// What the last post to a webhook gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastDelivery {
    pub at: DateTime<Utc>,
    /// `run.failed`, `run.timed_out`, `connection.needs_reauthentication` or `ping` (a test).
    pub event: String,
    pub delivered: bool,
    /// Why it was not: the answer's status or the network's error, never the URL.
    pub problem: Option<String>,
}

fn key(webhook: &WebhookConfig) -> String {
    format!("{}.last_delivery", cursor_key(webhook))
}

/// Notes a post to `webhook`. A failure to note it is logged, not passed on: the post itself
/// already happened.
pub(crate) async fn note(
    app: &App,
    webhook: &WebhookConfig,
    event: &str,
    posted: &Result<(), PostFailure>,
) {
    let delivery = LastDelivery {
        at: Utc::now(),
        event: event.to_owned(),
        delivered: posted.is_ok(),
        problem: posted
            .as_ref()
            .err()
            .map(|failure| failure.chain().to_string()),
    };
    let value = serde_json::to_value(&delivery).expect("a delivery serialises");
    if let Err(error) = app.store().set_setting(&key(webhook), &value).await {
        tracing::warn!(error = %error.chain(), "A webhook's last delivery could not be noted.");
    }
}

/// The last post to `webhook`, if any was noted.
pub(crate) async fn read(
    app: &App,
    webhook: &WebhookConfig,
) -> Result<Option<LastDelivery>, segsync_store::StoreError> {
    let Some(value) = app.store().setting(&key(webhook)).await? else {
        return Ok(None);
    };
    // A record this build cannot read is shown as none rather than failing the page.
    Ok(serde_json::from_value(value).ok())
}
