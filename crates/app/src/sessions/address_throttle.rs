//! Sign-in attempts counted per client address, in memory. The per-username lock lives in the
//! store, for known usernames only: guesses at usernames that do not exist write nothing, and
//! are bounded here instead, by where they come from. An attempt counts from the moment it is
//! taken, before its password is checked, so a burst from one address gets no more checks than
//! the limit.

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
    /// Attempts taken and not yet ended: they count as failures until they end.
    in_flight: u32,
}

/// An attempt taken for one address. Dropped without [`failed`](Self::failed) or
/// [`succeeded`](Self::succeeded) (the sign-in was refused before its password was checked),
/// it gives its place back.
pub(crate) struct AddressAttempt<'a> {
    throttle: &'a AddressThrottle,
    address: IpAddr,
    outcome: Option<Outcome>,
}

#[derive(Clone, Copy)]
enum Outcome {
    Failed(Instant),
    Succeeded,
}

impl AddressThrottle {
    pub(crate) fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Takes an attempt for `address`, or says how long it must wait when its failures and the
    /// attempts it has in flight reached the limit.
    pub(crate) fn attempt(
        &self,
        address: IpAddr,
        now: Instant,
    ) -> Result<AddressAttempt<'_>, Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= MAX_ADDRESSES {
            let window = self.window;
            failures.retain(|_, kept| {
                kept.in_flight > 0 || now.saturating_duration_since(kept.started) < window
            });
        }
        let window = failures.entry(address).or_insert(Window {
            started: now,
            failures: 0,
            in_flight: 0,
        });
        let mut elapsed = now.saturating_duration_since(window.started);
        if elapsed >= self.window {
            window.started = now;
            window.failures = 0;
            elapsed = Duration::ZERO;
        }
        if window.failures + window.in_flight >= self.max_failures {
            return Err(self.window - elapsed);
        }
        window.in_flight += 1;
        Ok(AddressAttempt {
            throttle: self,
            address,
            outcome: None,
        })
    }

    fn end(&self, address: IpAddr, outcome: Option<Outcome>) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(window) = failures.get_mut(&address) else {
            return;
        };
        window.in_flight = window.in_flight.saturating_sub(1);
        match outcome {
            Some(Outcome::Failed(now)) => {
                if now.saturating_duration_since(window.started) >= self.window {
                    window.started = now;
                    window.failures = 0;
                }
                window.failures += 1;
            }
            Some(Outcome::Succeeded) => window.failures = 0,
            None => {}
        }
    }
}

impl AddressAttempt<'_> {
    /// The password did not match: the attempt counts as a failure.
    pub(crate) fn failed(mut self, now: Instant) {
        self.outcome = Some(Outcome::Failed(now));
    }

    /// A successful sign-in clears its address's failures.
    pub(crate) fn succeeded(mut self) {
        self.outcome = Some(Outcome::Succeeded);
    }
}

impl Drop for AddressAttempt<'_> {
    fn drop(&mut self) {
        self.throttle.end(self.address, self.outcome);
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
            throttle.attempt(here, start).unwrap().failed(start);
        }
        assert_eq!(
            throttle
                .attempt(here, start + Duration::from_secs(10))
                .err(),
            Some(Duration::from_secs(50))
        );
        assert!(throttle.attempt(there, start).is_ok(), "per address");
        let after_the_window = start + Duration::from_secs(60);
        throttle
            .attempt(here, after_the_window)
            .expect("the window ended")
            .failed(after_the_window);
        throttle
            .attempt(here, after_the_window)
            .unwrap()
            .succeeded();
        for _ in 0..3 {
            throttle
                .attempt(here, after_the_window)
                .expect("a success cleared the failures")
                .failed(after_the_window);
        }
        assert!(throttle.attempt(here, after_the_window).is_err());
    }

    #[test]
    fn attempts_in_flight_count_and_a_refused_one_gives_its_place_back() {
        let throttle = AddressThrottle::new(3, Duration::from_secs(60));
        let here = "10.0.0.1".parse().unwrap();
        let now = Instant::now();
        let in_flight: Vec<_> = (0..3)
            .map(|_| throttle.attempt(here, now).expect("within the limit"))
            .collect();
        assert!(
            throttle.attempt(here, now).is_err(),
            "three attempts being checked fill the limit"
        );
        drop(in_flight);
        let refused_before_its_check = throttle.attempt(here, now).unwrap();
        drop(refused_before_its_check);
        for _ in 0..3 {
            throttle.attempt(here, now).unwrap().failed(now);
        }
        assert!(throttle.attempt(here, now).is_err());
    }
}
