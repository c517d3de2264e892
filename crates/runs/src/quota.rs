//! The daily request budget of an API key, shared by every process on the store.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDate, Utc};
use segsync_store::{Store, StoreError};

/// One API key's daily budget, shared through the store by every process, and what this run
/// reserved of it.
pub struct SharedQuota {
    pub api_key: String,
    pub requests_per_day: u64,
    /// The UTC day the reservation was made for.
    pub day: NaiveDate,
    reserved: AtomicU64,
}

impl SharedQuota {
    pub fn new(api_key: impl Into<String>, requests_per_day: u64) -> Self {
        Self {
            api_key: api_key.into(),
            requests_per_day,
            day: Utc::now().date_naive(),
            reserved: AtomicU64::new(0),
        }
    }

    /// Notes `requests` more reserved by the run in the store.
    pub(crate) fn note_reserved(&self, requests: u64) {
        self.reserved.fetch_add(requests, Ordering::Relaxed);
    }

    /// Releases the reservation and counts the requests the run used.
    pub async fn settle(&self, store: &Store, used: u64) -> Result<(), StoreError> {
        let reserved = self.reserved.swap(0, Ordering::Relaxed);
        store
            .settle_requests(&self.api_key, self.day, reserved, used)
            .await
    }
}
