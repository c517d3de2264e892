//! Failed sign-ins counted per client address, in memory. The per-username lock lives in the
//! store, for known usernames only: guesses at usernames that do not exist write nothing, and
//! are bounded here instead, by where they come from.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Addresses remembered at most; past it, windows that ended are forgotten first.
const MAX_ADDRESSES: usize = 100_000;

pub(crate) struct AddressThrottle {
    /// Failures allowed per address within `window`.
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl AddressThrottle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// When `address` may try again, if it failed too often lately.
    pub(crate) fn locked_for(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let window = failures.get(&address)?;
        let elapsed = now.saturating_duration_since(window.started);
        (window.failures >= self.max_failures && elapsed < self.window)
            .then(|| self.window - elapsed)
    }

    /// Counts a failed sign-in from `address`.
    pub(crate) fn failed(&self, address: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= MAX_ADDRESSES {
            let window = self.window;
            failures.retain(|_, kept| now.saturating_duration_since(kept.started) < window);
        }
        let window = failures.entry(address).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.saturating_duration_since(window.started) >= self.window {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures += 1;
    }

    /// A successful sign-in clears its address.
    pub(crate) fn succeeded(&self, address: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_locked_after_its_failures_until_the_window_ends() {
        let throttle = AddressThrottle::new(3, Duration::from_secs(60));
        let (here, there) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.locked_for(here, start), None);
            throttle.failed(here, start);
        }
        assert_eq!(
            throttle.locked_for(here, start + Duration::from_secs(10)),
            Some(Duration::from_secs(50))
        );
        assert_eq!(throttle.locked_for(there, start), None, "per address");
        assert_eq!(
            throttle.locked_for(here, start + Duration::from_secs(60)),
            None,
            "the window ended"
        );
        throttle.failed(here, start + Duration::from_secs(61));
        assert_eq!(
            throttle.locked_for(here, start + Duration::from_secs(62)),
            None
        );
        throttle.succeeded(here);
        assert_eq!(throttle.locked_for(here, start), None);
    }
}
