//! Requests to Constant Contact made outside runs — list and custom-field look-ups, the checks
//! of an export being saved, dry runs — spend the same daily budget of the API key as runs
//! do: each reserves what it expects to send before it sends anything and settles with what it
//! sent, so the budget's `used` is what Constant Contact received. A day whose budget is spent
//! refuses them with 429 `quota_spent` until the reset. Look-ups are kept a while per
//! connection ([`Recent`], a minute by default), so that a page opened in a loop costs one
//! request a minute.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use constant_contact::ConstantContact;
use uuid::Uuid;

use crate::App;
use crate::error::{AppError, Code};

impl App {
    /// Runs `call`, which sends about `expected` requests through `client`, within the API
    /// key's daily budget: refused when the budget has no room for them, and counted with the
    /// requests it really sent, whether it succeeded or not.
    pub(crate) async fn metered<T>(
        &self,
        client: &ConstantContact,
        expected: u64,
        call: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let api = self.engine().clients().api();
        let (api_key, per_day) = (api.client_id.as_str(), u64::from(api.daily_quota));
        let now = Utc::now();
        let day = now.date_naive();
        if let Err(left) = self
            .store()
            .reserve_requests(api_key, day, expected, per_day)
            .await?
        {
            let resets_at = constant_contact::budget::next_utc_midnight(now);
            return Err(AppError::new(
                Code::QuotaSpent,
                format!(
                    "today's requests of this installation's API key are spent ({left} of {per_day} left, {expected} needed); they reset at {}",
                    resets_at.format("%H:%M UTC")
                ),
            )
            .with_retry_after((resets_at - now).to_std().unwrap_or_default()));
        }
        let before = client.requests_sent();
        let result = call.await;
        let sent = client.requests_sent() - before;
        self.store()
            .settle_requests(api_key, day, expected, sent)
            .await?;
        result
    }
}

/// Each connection's contact lists and custom fields, as looked up lately.
pub(crate) struct LookUps {
    pub(crate) lists: Recent<Vec<crate::connections::ListView>>,
    pub(crate) custom_fields: Recent<Vec<crate::connections::CustomFieldView>>,
}

impl LookUps {
    /// Look-ups kept for `kept_for`.
    pub(crate) fn new(kept_for: Duration) -> Self {
        Self {
            lists: Recent::new(kept_for),
            custom_fields: Recent::new(kept_for),
        }
    }

    /// Forgets what a connection answered: another account may stand behind it now, or it is
    /// gone.
    pub(crate) fn forget(&self, connection: Uuid) {
        self.lists.forget(connection);
        self.custom_fields.forget(connection);
    }
}

/// What each connection answered to one kind of look-up in the last minute. One look-up per
/// connection goes at a time: the ones that come meanwhile wait for its answer.
pub(crate) struct Recent<T> {
    kept_for: Duration,
    by_connection: Mutex<HashMap<Uuid, Arc<Slot<T>>>>,
}

/// One connection's answer and when it came, locked while it is looked up.
type Slot<T> = tokio::sync::Mutex<Option<(Instant, T)>>;

impl<T: Clone> Recent<T> {
    /// Answers kept for `kept_for` (none, when zero).
    pub(crate) fn new(kept_for: Duration) -> Self {
        Self {
            kept_for,
            by_connection: Mutex::default(),
        }
    }

    /// The connection's answer of the last minute, or a new one from `look_up`, kept when it
    /// succeeds.
    pub(crate) async fn get_or_look_up(
        &self,
        connection: Uuid,
        look_up: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let slot = Arc::clone(
            self.by_connection
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(connection)
                .or_default(),
        );
        let mut kept = slot.lock().await;
        if let Some((at, answer)) = kept.as_ref()
            && at.elapsed() < self.kept_for
        {
            return Ok(answer.clone());
        }
        let answer = look_up.await?;
        *kept = Some((Instant::now(), answer.clone()));
        Ok(answer)
    }

    /// Forgets a connection's answer (its account changed, or it was removed).
    pub(crate) fn forget(&self, connection: Uuid) {
        self.by_connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&connection);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_look_up_is_kept_for_a_minute_per_connection_and_failures_are_not() {
        let recent = Recent::<u32>::new(Duration::from_secs(60));
        let (one, other) = (Uuid::new_v4(), Uuid::new_v4());
        let failed = recent
            .get_or_look_up(one, async { Err(AppError::internal("refused")) })
            .await;
        assert!(failed.is_err());
        assert_eq!(recent.get_or_look_up(one, async { Ok(1) }).await, Ok(1));
        assert_eq!(
            recent.get_or_look_up(one, async { Ok(2) }).await,
            Ok(1),
            "kept"
        );
        assert_eq!(recent.get_or_look_up(other, async { Ok(3) }).await, Ok(3));
        recent.forget(one);
        assert_eq!(recent.get_or_look_up(one, async { Ok(4) }).await, Ok(4));
    }
}
