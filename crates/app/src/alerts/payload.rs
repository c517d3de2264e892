//! What a webhook receives: one JSON document per alert, with an id that stays the same when a
//! delivery is tried again, so that a receiver can drop repeats.

use chrono::{DateTime, Utc};
use segsync_domain::GuardStop;
use segsync_store::{Connection, Run, RunStatus, Trigger};
use serde::Serialize;
use serde_json::json;
use url::Url;

use super::config::AlertEvent;

/// One alert, ready to post.
#[derive(Debug, Clone)]
pub(crate) struct Alert {
    /// Stable across retries: the event and what it is about.
    pub(crate) id: String,
    pub(crate) event: AlertEvent,
    pub(crate) body: serde_json::Value,
}

#[derive(Serialize)]
struct RunPart<'a> {
    id: String,
    status: &'a str,
    reason: Option<&'a str>,
    trigger: Trigger,
    queued_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    sent: Option<u64>,
    /// A run a guard stopped: the numbers it judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    guard: Option<&'a GuardStop>,
    url: String,
}

/// The alert for a run that ended failed or timed out, or that a guard stopped; `export_name` is `None` once the export
/// is removed.
pub(crate) fn run_alert(run: &Run, export_name: Option<&str>, public_url: &Url) -> Alert {
    let event = match run.status {
        RunStatus::TimedOut => AlertEvent::RunTimedOut,
        RunStatus::AwaitingConfirmation => AlertEvent::RunNeedsConfirmation,
        _ => AlertEvent::RunFailed,
    };
    // A run stopped again after a confirmation (its data got worse) is a new alert.
    let id = match event {
        AlertEvent::RunNeedsConfirmation => format!(
            "{}/{}/{}",
            event.as_str(),
            run.id,
            run.finished_at.map_or(0, |at| at.timestamp_millis())
        ),
        _ => format!("{}/{}", event.as_str(), run.id),
    };
    let sent = run.report.as_ref().map(|report| report.sent);
    let part = RunPart {
        id: run.id.to_string(),
        status: run.status.as_str(),
        reason: run.reason.as_deref(),
        trigger: run.trigger,
        queued_at: run.queued_at,
        started_at: run.started_at,
        finished_at: run.finished_at,
        sent,
        guard: run.guard.as_ref(),
        url: page(public_url, &format!("runs/{}", run.id)),
    };
    Alert {
        body: json!({
            "id": id,
            "event": event.as_str(),
            "occurred_at": run.finished_at,
            "run": part,
            "export": { "id": run.export_id.to_string(), "name": export_name },
        }),
        id,
        event,
    }
}

/// The alert for a connection that came to need re-authentication.
pub(crate) fn connection_alert(connection: &Connection, public_url: &Url) -> Alert {
    let event = AlertEvent::ConnectionNeedsReauthentication;
    let changed_at = connection.health_changed_at;
    let id = format!(
        "{}/{}/{}",
        event.as_str(),
        connection.id,
        changed_at.map_or(0, |at| at.timestamp_millis())
    );
    Alert {
        body: json!({
            "id": id,
            "event": event.as_str(),
            "occurred_at": changed_at,
            "connection": {
                "id": connection.id.to_string(),
                "name": connection.name,
                "reason": connection.health_reason,
                "url": page(public_url, &format!("connections/{}", connection.id)),
            },
        }),
        id,
        event,
    }
}

/// A test post: its id and body. Receivers should answer 2xx and otherwise ignore it.
pub(crate) struct Ping {
    pub(crate) id: String,
    pub(crate) body: serde_json::Value,
}

pub(crate) fn ping(public_url: &Url) -> Ping {
    let id = format!("ping/{}", uuid::Uuid::new_v4());
    Ping {
        body: json!({
            "id": id,
            "event": "ping",
            "occurred_at": Utc::now(),
            "from": public_url.as_str(),
        }),
        id,
    }
}

/// The console page at `path` under the server's public address.
fn page(public_url: &Url, path: &str) -> String {
    public_url
        .join(path)
        .map_or_else(|_| path.to_owned(), String::from)
}
