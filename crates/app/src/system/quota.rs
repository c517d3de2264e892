//! Today's Constant Contact request budget of each API key, as every node on the store shares
//! it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::SystemAdmin;
use crate::error::AppError;

/// One API key's requests today (UTC).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuotaView {
    /// The key (the Constant Contact application's client ID; not a secret).
    pub api_key: String,
    /// Whether this server's configuration uses the key; keys other servers on the store use
    /// show too.
    pub configured: bool,
    /// Requests sent today.
    pub used: u64,
    /// Requests held by runs going on now.
    pub reserved: u64,
    /// The day's budget, when this server knows it (its own key).
    pub requests_per_day: Option<u64>,
    /// Requests still free today, when the budget is known.
    pub left: Option<u64>,
    /// Constant Contact said the quota ran out: no run of the key starts before this.
    pub paused_until: Option<DateTime<Utc>>,
    /// When the day's budget starts again: UTC midnight.
    pub resets_at: DateTime<Utc>,
}

impl QuotaView {
    /// The share of the day's budget used and reserved, as a whole percentage for a meter.
    pub fn percent_taken(&self) -> u64 {
        self.requests_per_day.map_or(0, |limit| {
            ((self.used + self.reserved) * 100)
                .checked_div(limit)
                .unwrap_or(0)
                .min(100)
        })
    }
}

impl SystemAdmin<'_> {
    /// Every API key's day: this installation's key first, then the others by key.
    pub async fn quota(&self) -> Result<Vec<QuotaView>, AppError> {
        let now = Utc::now();
        let resets_at = constant_contact::budget::next_utc_midnight(now);
        let ours = self.app.engine().clients().api();
        let store = self.app.store();
        let mut days = store.quota_days(now.date_naive()).await?;
        if !days.iter().any(|(key, _)| *key == ours.client_id) {
            let nothing_yet = store.quota_day(&ours.client_id, now.date_naive()).await?;
            days.push((ours.client_id.clone(), nothing_yet));
        }
        days.sort_by(|(a, _), (b, _)| (*a != ours.client_id, a).cmp(&(*b != ours.client_id, b)));
        Ok(days
            .into_iter()
            .map(|(api_key, today)| {
                let configured = api_key == ours.client_id;
                let per_day = configured.then_some(u64::from(ours.daily_quota));
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
            .collect())
    }
}
