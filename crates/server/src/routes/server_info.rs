//! What admins see of the server itself: its build and store, and today's Constant Contact
//! request budget of each API key, as every node on the store shares it.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use segsync_store::Backend;
use serde::Serialize;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AboutView {
    /// The build's version.
    pub(crate) version: &'static str,
    /// `sqlite` or `postgres`.
    pub(crate) database: &'static str,
    /// The memory segment evaluation may use, as configured (`[engine] memory_limit`).
    pub(crate) engine_memory_limit: String,
    /// Where the console is reached, as links in alerts name it.
    pub(crate) public_url: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/system/about",
    operation_id = "system_about",
    tag = "system",
    responses(
        (status = OK, description = "Done", body = AboutView),
    )
)]
pub(crate) async fn about(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AboutView>, AppError> {
    caller.admin("see the server's build")?;
    Ok(Json(AboutView {
        version: env!("CARGO_PKG_VERSION"),
        database: match state.store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        engine_memory_limit: state.config.engine.memory_limit.to_string(),
        public_url: state.config.public_url.to_string(),
    }))
}

/// One API key's requests today (UTC).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct QuotaView {
    /// The key (the Constant Contact application's client ID; not a secret).
    pub(crate) api_key: String,
    /// Whether this server's configuration uses the key; keys other servers on the store use
    /// show too.
    pub(crate) configured: bool,
    /// Requests sent today.
    pub(crate) used: u64,
    /// Requests held by runs going on now.
    pub(crate) reserved: u64,
    /// The day's budget, when this server knows it (its own key).
    pub(crate) requests_per_day: Option<u64>,
    /// Requests still free today, when the budget is known.
    pub(crate) left: Option<u64>,
    /// Constant Contact said the quota ran out: no run of the key starts before this.
    pub(crate) paused_until: Option<DateTime<Utc>>,
    /// When the day's budget starts again: UTC midnight.
    pub(crate) resets_at: DateTime<Utc>,
}

#[utoipa::path(
    get,
    path = "/api/v1/system/quota",
    operation_id = "system_quota",
    tag = "system",
    responses(
        (status = OK, description = "Done", body = Vec<QuotaView>),
    )
)]
pub(crate) async fn quota(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<QuotaView>>, AppError> {
    caller.admin("see the request quota")?;
    let now = Utc::now();
    let resets_at = constant_contact::budget::next_utc_midnight(now);
    let ours = &state.config.constant_contact;
    let mut days = state.store.quota_days(now.date_naive()).await?;
    if !days.iter().any(|(key, _)| *key == ours.client_id) {
        let nothing_yet = state
            .store
            .quota_day(&ours.client_id, now.date_naive())
            .await?;
        days.push((ours.client_id.clone(), nothing_yet));
    }
    // This server's key first, then the others by key.
    days.sort_by(|(a, _), (b, _)| (*a != ours.client_id, a).cmp(&(*b != ours.client_id, b)));
    Ok(Json(
        days.into_iter()
            .map(|(api_key, today)| {
                let configured = api_key == ours.client_id;
                let per_day = configured.then_some(u64::from(ours.requests_per_day));
                QuotaView {
                    configured,
                    used: today.used,
                    reserved: today.reserved,
                    requests_per_day: per_day,
                    left: per_day.map(|limit| limit.saturating_sub(today.used + today.reserved)),
                    paused_until: today.paused_until.filter(|until| *until > now),
                    resets_at,
                    api_key,
                }
            })
            .collect(),
    ))
}
