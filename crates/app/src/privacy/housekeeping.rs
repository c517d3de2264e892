//! The personal-data work every node does in the background: carrying out erasures that wait
//! (and those a stopped node left), and purging what aged out of retention when no node has.

use std::time::Duration;

use chrono::Utc;
use segsync_domain::ChainExt;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::App;

/// How often a node looks for erasures to carry out and for a purge that is due.
const ROUND_EVERY: Duration = Duration::from_secs(60);

/// Looks after personal data until `stopping` is cancelled.
pub async fn keep_looking_after(app: App, stopping: CancellationToken) {
    loop {
        if let Err(error) = app.engine().carry_out_waiting_erasures().await {
            warn!(error = %error.chain(), "Erasures waiting could not be carried out; the next round tries again.");
        }
        if let Err(error) = app
            .retention()
            .purge_when_due(app.store(), Utc::now())
            .await
        {
            super::retention::purge_failed(&error);
        }
        tokio::select! {
            () = tokio::time::sleep(ROUND_EVERY) => {}
            () = stopping.cancelled() => return,
        }
    }
}
