//! `GET /metrics` for Prometheus. It needs a signed-in caller: scrape it with the API token of a
//! viewer (Prometheus's `authorization` setting).

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;
use crate::telemetry::recorder;

#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics_metrics",
    tag = "health",
    responses(
        (status = OK, description = "Prometheus text format", content_type = "text/plain", body = String),
    )
)]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<impl IntoResponse, AppError> {
    let mut text = recorder().map(|handle| handle.render()).unwrap_or_default();
    let counts = state.store.count_runs_by_status().await?;
    text.push_str("# HELP segsync_runs Runs in the store, by status.\n# TYPE segsync_runs gauge\n");
    for (status, runs) in counts {
        writeln!(
            text,
            "segsync_runs{{status=\"{}\"}} {runs}",
            status.as_str()
        )
        .expect("writing to a String");
    }
    let drift = state.store.latest_drift().await?;
    text.push_str("# HELP segsync_list_drift Members missing from each export's list and extra on it, at its latest reading.\n# TYPE segsync_list_drift gauge\n");
    for (export, point) in drift {
        for (kind, members) in [("missing", point.missing), ("extra", point.extra)] {
            writeln!(
                text,
                "segsync_list_drift{{export=\"{export}\",kind=\"{kind}\"}} {members}"
            )
            .expect("writing to a String");
        }
    }
    let held = state.app.retention().view(&state.store.held_data().await?);
    text.push_str("# HELP segsync_personal_data_held Records the store holds that carry or stand for personal data, by kind.\n# TYPE segsync_personal_data_held gauge\n");
    for (kind, count) in [
        ("runs", held.runs),
        ("runs_with_details", held.runs_with_details),
        ("skipped_entries", held.skipped_entries),
        ("audit_entries", held.audit_entries),
        ("sign_in_failures", held.sign_in_failures),
        ("ledger_members", held.ledger_members),
        ("opt_outs", held.opt_outs),
        ("exclusions", held.exclusions),
        ("tombstones", held.tombstones),
    ] {
        writeln!(
            text,
            "segsync_personal_data_held{{kind=\"{kind}\"}} {count}"
        )
        .expect("writing to a String");
    }
    text.push_str("# HELP segsync_personal_data_next_purge_timestamp_seconds When the oldest of each kind ages out of retention (Unix seconds).\n# TYPE segsync_personal_data_next_purge_timestamp_seconds gauge\n");
    for (kind, at) in [
        ("run_details", held.next_details_purge),
        ("runs", held.next_run_purge),
        ("audit_entries", held.next_audit_purge),
    ] {
        if let Some(at) = at {
            writeln!(
                text,
                "segsync_personal_data_next_purge_timestamp_seconds{{kind=\"{kind}\"}} {}",
                at.timestamp()
            )
            .expect("writing to a String");
        }
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
