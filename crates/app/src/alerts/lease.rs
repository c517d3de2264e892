//! The sender lease: of the nodes sharing a store, the one holding it sends alerts. It is a
//! setting taken and renewed by compare-and-set, and lapses when its node stops renewing it.

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::POST_TIMEOUT;
use crate::App;

const LEASE_KEY: &str = "alerts.sender";

/// Who sends alerts, and until when unless renewed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lease {
    node: String,
    until_ms: i64,
}

/// Takes or renews the lease; true while this process holds it. It lasts long enough for a post
/// that takes all of `POST_TIMEOUT`, and is renewed before each, so no other node takes over
/// while one is under way.
pub(super) async fn hold(app: &App, every: Duration) -> Result<bool, segsync_store::StoreError> {
    let now = Utc::now().timestamp_millis();
    let current = app.store().setting(LEASE_KEY).await?;
    let held_by_other = current
        .as_ref()
        .and_then(|value| serde_json::from_value::<Lease>(value.clone()).ok())
        .is_some_and(|lease| lease.node != *app.engine().node_id() && lease.until_ms > now);
    if held_by_other {
        return Ok(false);
    }
    let renewed = Lease {
        node: app.engine().node_id().to_owned(),
        until_ms: now
            + i64::try_from((3 * every).max(2 * POST_TIMEOUT).as_millis()).unwrap_or(i64::MAX / 4),
    };
    let renewed = serde_json::to_value(renewed).expect("a lease serialises");
    app.store()
        .replace_setting(LEASE_KEY, current.as_ref(), &renewed)
        .await
}
