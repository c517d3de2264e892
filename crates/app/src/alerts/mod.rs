//! Alerts: each configured webhook is told when a run fails or times out and when a connection
//! comes to need re-authentication.
//!
//! Nothing is queued when the event happens: the store's records are the queue. Every
//! `check_seconds` the process holding the sender lease reads, per webhook, what ended after
//! that webhook's cursor (kept in `settings`) and posts it in order, moving the cursor past
//! each alert once delivered. So an alert survives restarts and is sent by one node at a time,
//! at least once (its `id` lets a receiver drop a repeat). A webhook that does not answer 2xx
//! is tried again with a growing pause, holding back its later alerts to keep their order;
//! after `MAX_ATTEMPTS` (about an hour) the alert is given up, and logged.

mod admin;
mod config;
mod last_delivery;
mod lease;
mod payload;
mod webhook;

pub use admin::{AlertAdmin, WebhookView};
pub use config::{AlertEvent, AlertsConfig, WebhookConfig, redacted, url_text};
pub use last_delivery::LastDelivery;

use segsync_domain::ChainExt;
use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use segsync_store::FeedCursor;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::App;
use crate::secrets::to_hex;
use payload::Alert;

/// Tries of one alert before it is given up: with the pauses below, about an hour.
const MAX_ATTEMPTS: u32 = 18;
/// The longest pause between tries.
const MAX_PAUSE: Duration = Duration::from_secs(300);
/// Alerts read from the store at once, per feed.
const PAGE: u32 = 50;
/// The longest a webhook may take to answer one post.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a webhook is in both feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursors {
    runs: FeedCursor,
    connections: FeedCursor,
}

/// A webhook that failed: how often in a row, and when to try again.
struct Failing {
    alert_id: String,
    attempts: u32,
    retry_at: Instant,
}

/// Sends alerts until `stopping`; does nothing when no webhook is configured.
pub async fn keep_sending(app: App, stopping: CancellationToken) {
    let alerts = &app.alerts;
    if alerts.webhooks.is_empty() {
        return;
    }
    let every = Duration::from_secs(alerts.check_seconds);
    let http = match http_client() {
        Ok(http) => http,
        Err(error) => {
            error!(error = %error.chain(), "No HTTP client for webhooks: alerts are off.");
            return;
        }
    };
    info!(
        webhooks = alerts.webhooks.len(),
        "Alerts go to the configured webhooks."
    );
    let mut failing: HashMap<usize, Failing> = HashMap::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stopping.cancelled() => return,
        }
        match lease::hold(&app, every).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(error) => {
                warn!(error = %error.chain(), "The alert sender lease could not be read; trying again shortly.");
                continue;
            }
        }
        for (index, webhook) in alerts.webhooks.iter().enumerate() {
            if failing
                .get(&index)
                .is_some_and(|failing| failing.retry_at > Instant::now())
            {
                continue;
            }
            if let Err(error) = send_pending(&app, &http, index, webhook, every, &mut failing).await
            {
                warn!(webhook = index, error = %error.chain(), "Alerts could not be read from the store.");
            }
        }
    }
}

/// Posts what `webhook` has not had yet, in order, stopping at the first failure.
async fn send_pending(
    app: &App,
    http: &reqwest::Client,
    index: usize,
    webhook: &WebhookConfig,
    settle: Duration,
    failing: &mut HashMap<usize, Failing>,
) -> Result<(), segsync_store::StoreError> {
    let key = cursor_key(webhook);
    let Some(value) = app.store().setting(&key).await? else {
        return start_webhook(app, webhook).await;
    };
    let mut cursors: Cursors = serde_json::from_value(value)
        .map_err(|error| segsync_store::StoreError::Corrupt(format!("setting {key}: {error}")))?;
    // What happened in the last moments waits for the next look: a record written a little
    // late (another node's clock, a slow commit) is still read in order.
    let until = Utc::now() - chrono::Duration::from_std(settle).unwrap_or_default();
    let public_url = &app.public_url;
    let runs = app
        .store()
        .runs_ended_badly(&cursors.runs, until, PAGE)
        .await?;
    let mut pending: Vec<(Alert, Cursors)> = Vec::new();
    let mut names = HashMap::new();
    for run in &runs {
        let name = match names.get(&run.export_id) {
            Some(name) => Option::clone(name),
            None => {
                // A removed export has no name left to tell.
                let name = app.store().export(run.export_id).await.ok().map(|e| e.name);
                names.insert(run.export_id, name.clone());
                name
            }
        };
        cursors.runs = FeedCursor {
            at_ms: run.finished_at.map_or(0, |at| at.timestamp_millis()),
            id: run.id.to_string(),
        };
        pending.push((
            payload::run_alert(run, name.as_deref(), public_url),
            cursors.clone(),
        ));
    }
    let connections = app
        .store()
        .connections_needing_reauthentication(&cursors.connections, until, PAGE)
        .await?;
    for connection in &connections {
        cursors.connections = FeedCursor {
            at_ms: connection
                .health_changed_at
                .map_or(0, |at| at.timestamp_millis()),
            id: connection.id.to_string(),
        };
        pending.push((
            payload::connection_alert(connection, public_url),
            cursors.clone(),
        ));
    }
    for (alert, after) in pending {
        if webhook.wants(alert.event) {
            if !lease::hold(app, settle).await? {
                return Ok(());
            }
            let posted = webhook::deliver(http, webhook, &alert).await;
            last_delivery::note(app, webhook, alert.event.as_str(), &posted).await;
            match posted {
                Ok(()) => {
                    failing.remove(&index);
                    metrics::counter!("segsync_alerts_delivered_total", "event" => alert.event.as_str())
                        .increment(1);
                }
                Err(problem) => {
                    let attempts = match failing.get(&index) {
                        Some(failed) if failed.alert_id == alert.id => failed.attempts + 1,
                        _ => 1,
                    };
                    if attempts < MAX_ATTEMPTS {
                        let pause = Duration::from_secs(1 << attempts.min(16)).min(MAX_PAUSE);
                        warn!(webhook = index, host = webhook.url.host_str().unwrap_or(""), alert = %alert.id, attempts, problem = %problem.chain(), "An alert was not delivered; it is tried again later.");
                        failing.insert(
                            index,
                            Failing {
                                alert_id: alert.id,
                                attempts,
                                retry_at: Instant::now() + pause,
                            },
                        );
                        return Ok(());
                    }
                    error!(webhook = index, host = webhook.url.host_str().unwrap_or(""), alert = %alert.id, attempts, problem = %problem.chain(), "An alert was given up after repeated failures.");
                    metrics::counter!("segsync_alerts_given_up_total", "event" => alert.event.as_str())
                        .increment(1);
                    failing.remove(&index);
                }
            }
        }
        app.store()
            .set_setting(
                &key,
                &serde_json::to_value(&after).expect("cursors serialise"),
            )
            .await?;
    }
    Ok(())
}

/// The client that posts to webhooks: a bounded wait, no redirects followed.
fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(POST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("segsync/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// What a test post to one webhook gave.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestPost {
    /// The webhook's place in `[[alerts.webhooks]]`, from 0.
    pub webhook: usize,
    /// Its host; the rest of the URL may hold a token and is not shown.
    pub host: String,
    pub delivered: bool,
    /// Why it was not.
    pub problem: Option<String>,
}

/// Posts a `ping` to every webhook in turn and says what each answered.
async fn test_every_webhook(app: &App) -> Vec<TestPost> {
    let http = http_client();
    let mut posts = Vec::new();
    for (index, webhook) in app.alerts.webhooks.iter().enumerate() {
        let ping = payload::ping(&app.public_url);
        let posted = match &http {
            Ok(http) => webhook::post(http, webhook, &ping.id, "ping", &ping.body).await,
            Err(error) => Err(webhook::PostFailure::NoClient(error.to_string())),
        };
        last_delivery::note(app, webhook, "ping", &posted).await;
        posts.push(TestPost {
            webhook: index,
            host: webhook.url.host_str().unwrap_or("").to_owned(),
            delivered: posted.is_ok(),
            problem: posted.err().map(|failure| failure.chain().to_string()),
        });
    }
    posts
}

/// Gives each webhook seen for the first time its cursors, at this moment: a new webhook hears
/// of what happens from now on, not of the past.
pub async fn start_new_webhooks(app: &App) -> Result<(), segsync_store::StoreError> {
    for webhook in &app.alerts.webhooks {
        start_webhook(app, webhook).await?;
    }
    Ok(())
}

async fn start_webhook(
    app: &App,
    webhook: &WebhookConfig,
) -> Result<(), segsync_store::StoreError> {
    let start = FeedCursor::at(Utc::now());
    let cursors = Cursors {
        runs: start.clone(),
        connections: start,
    };
    let cursors = serde_json::to_value(&cursors).expect("cursors serialise");
    // Of several nodes starting at once, the first one's moment stands.
    app.store()
        .replace_setting(&cursor_key(webhook), None, &cursors)
        .await?;
    Ok(())
}

/// The setting that holds a webhook's cursors, named by a hash of its URL (which may hold a
/// token, so it is not stored as such).
fn cursor_key(webhook: &WebhookConfig) -> String {
    let digest = Sha256::digest(webhook.url.as_str().as_bytes());
    format!("alerts.webhook.{}", to_hex(&digest[..8]))
}
