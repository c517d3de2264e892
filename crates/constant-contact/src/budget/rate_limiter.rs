//! Requests per second for one API key, as a GCRA limiter with no burst: requests leave evenly
//! spaced, so no one-second window ever holds more than the allowed number.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, middleware::NoOpMiddleware};

use super::clock::TokioClock;

/// Requests are spaced this much wider than the nominal rate allows, so that jitter between
/// our clock and Constant Contact's arrival times never squeezes one request too many into a
/// second. At 4 requests/s this is 255 ms instead of 250 ms.
const SPACING_MARGIN: f64 = 1.02;

pub struct RateLimiter {
    limiter: governor::RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>,
    clock: TokioClock,
    nanos_waited: AtomicU64,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("time_waited", &self.time_waited())
            .finish()
    }
}

impl RateLimiter {
    pub fn new(requests_per_second: u32) -> Self {
        let requests_per_second = requests_per_second.max(1);
        let spacing = Duration::from_secs_f64(SPACING_MARGIN / f64::from(requests_per_second));
        let quota = Quota::with_period(spacing)
            .expect("spacing is positive")
            .allow_burst(NonZeroU32::MIN);
        let clock = TokioClock::new();
        Self {
            limiter: governor::RateLimiter::direct_with_clock(quota, clock),
            clock,
            nanos_waited: AtomicU64::new(0),
        }
    }

    /// Waits until one more request may leave.
    pub async fn until_ready(&self) {
        while let Err(not_until) = self.limiter.check() {
            let wait = not_until.wait_time_from(self.clock.now());
            self.nanos_waited
                .fetch_add(wait.as_nanos() as u64, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    pub fn time_waited(&self) -> Duration {
        Duration::from_nanos(self.nanos_waited.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly_with_no_burst() {
        let limiter = RateLimiter::new(4);
        let start = tokio::time::Instant::now();
        let mut departures = Vec::new();
        for _ in 0..9 {
            limiter.until_ready().await;
            departures.push(start.elapsed());
        }
        for pair in departures.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(250),
                "{departures:?}"
            );
        }
        // Nine requests at 4/s need two full seconds, and a little margin.
        assert!(departures[8] >= Duration::from_secs(2));
        assert!(departures[8] < Duration::from_millis(2100));
    }
}
