//! Requests per second for one API key. Two rules, both needed:
//!
//! - requests leave evenly spaced (a GCRA limiter with no burst, `governor`), never faster than
//!   the nominal rate;
//! - no request leaves until the one `requests_per_second` places before it is surely counted by
//!   Constant Contact — it has been answered —, and a second has passed since. Constant Contact counts a request when it
//!   arrives, which is after it left and before its answer came back: a request that left late
//!   (its slot was granted, then it waited for a token or a connection) or that reached a busy
//!   server late would otherwise fall into the same second as the fourth one after it — the one
//!   `throttled` answer that spacing alone still drew.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, middleware::NoOpMiddleware};
use tokio::time::Instant;

use super::clock::TokioClock;

/// Requests are spaced this much wider than the nominal rate allows. At 4 requests/s this is
/// 255 ms instead of 250 ms.
const SPACING_MARGIN: f64 = 1.02;
/// What is added to the second of the window rule, for the clocks of two machines.
const WINDOW_MARGIN: Duration = Duration::from_millis(10);
/// A request still unanswered this long after it left is taken as counted, so that one that
/// hangs does not hold every other request back until it times out. Once answered, the answer's
/// time is what counts, however late: a busy server may count a request only when it gets to
/// it.
const UNANSWERED_BOUND: Duration = Duration::from_secs(1);

pub struct RateLimiter {
    limiter: governor::RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>,
    clock: TokioClock,
    per_second: usize,
    /// The last `per_second` requests, oldest first.
    window: Mutex<VecDeque<Departure>>,
    next_ticket: AtomicU64,
    nanos_waited: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Departure {
    ticket: u64,
    left_at: Instant,
    /// When its answer (or its failure) came back, once it has.
    answered_at: Option<Instant>,
}

impl Departure {
    /// By when Constant Contact has surely counted it.
    fn counted_by(&self) -> Instant {
        self.answered_at.unwrap_or(self.left_at + UNANSWERED_BOUND)
    }
}

/// The right to send one request. [`RequestSlot::leaving`] marks when it really leaves (after
/// its token is ready); dropping the slot, once the answer's headers are in or the attempt
/// failed, tells the limiter that Constant Contact has counted the request.
#[must_use = "hold the slot until the request is answered"]
pub struct RequestSlot<'a> {
    limiter: &'a RateLimiter,
    ticket: u64,
}

impl std::fmt::Debug for RequestSlot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSlot")
            .field("ticket", &self.ticket)
            .finish()
    }
}

impl RequestSlot<'_> {
    /// The request leaves now: whatever delayed it since its slot was granted moves it later.
    pub fn leaving(&self) {
        self.update(|departure, now| departure.left_at = now);
    }

    fn update(&self, change: impl FnOnce(&mut Departure, Instant)) {
        let now = Instant::now();
        let mut window = self.limiter.window();
        if let Some(departure) = window
            .iter_mut()
            .find(|departure| departure.ticket == self.ticket)
        {
            change(departure, now);
        }
    }
}

impl Drop for RequestSlot<'_> {
    fn drop(&mut self) {
        self.update(|departure, now| departure.answered_at = Some(now));
    }
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
            per_second: requests_per_second as usize,
            window: Mutex::new(VecDeque::new()),
            next_ticket: AtomicU64::new(0),
            nanos_waited: AtomicU64::new(0),
        }
    }

    /// Waits until one more request may leave, and returns its slot.
    pub async fn until_ready(&self) -> RequestSlot<'_> {
        loop {
            let wait = {
                let mut window = self.window();
                let window_wait = match window.front() {
                    Some(oldest) if window.len() >= self.per_second => {
                        let ready_at = oldest.counted_by() + Duration::from_secs(1) + WINDOW_MARGIN;
                        ready_at.saturating_duration_since(Instant::now())
                    }
                    _ => Duration::ZERO,
                };
                if window_wait > Duration::ZERO {
                    window_wait
                } else {
                    match self.limiter.check() {
                        Ok(()) => {
                            let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
                            window.push_back(Departure {
                                ticket,
                                left_at: Instant::now(),
                                answered_at: None,
                            });
                            while window.len() > self.per_second {
                                window.pop_front();
                            }
                            return RequestSlot {
                                limiter: self,
                                ticket,
                            };
                        }
                        Err(not_until) => not_until.wait_time_from(self.clock.now()),
                    }
                }
            };
            self.nanos_waited
                .fetch_add(wait.as_nanos() as u64, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    pub fn time_waited(&self) -> Duration {
        Duration::from_nanos(self.nanos_waited.load(Ordering::Relaxed))
    }

    fn window(&self) -> std::sync::MutexGuard<'_, VecDeque<Departure>> {
        // The window holds plain records, so a panic elsewhere cannot leave it inconsistent.
        self.window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly_with_no_burst() {
        let limiter = RateLimiter::new(4);
        let start = Instant::now();
        let mut departures = Vec::new();
        for _ in 0..9 {
            drop(limiter.until_ready().await);
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

    /// The fifth request waits for a second after the first left and was answered, however
    /// late that was: Constant Contact may have counted the first only then.
    #[tokio::test(start_paused = true)]
    async fn a_request_that_left_or_was_answered_late_holds_back_the_one_four_places_after_it() {
        let limiter = RateLimiter::new(4);
        let start = Instant::now();
        let first = limiter.until_ready().await;
        // Its token took 200 ms, its answer 100 ms more.
        tokio::time::sleep(Duration::from_millis(200)).await;
        first.leaving();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(first);
        for _ in 0..3 {
            drop(limiter.until_ready().await);
        }
        drop(limiter.until_ready().await);
        let fifth_left = start.elapsed();
        assert!(
            fifth_left >= Duration::from_millis(1310) && fifth_left < Duration::from_millis(1400),
            "{fifth_left:?}: a second after the first was answered, and the margin"
        );
    }

    /// An answer that never comes holds nothing back for longer than the bound.
    #[tokio::test(start_paused = true)]
    async fn an_unanswered_request_counts_as_arrived_after_the_bound() {
        let limiter = RateLimiter::new(4);
        let start = Instant::now();
        let hanging = limiter.until_ready().await;
        for _ in 0..3 {
            drop(limiter.until_ready().await);
        }
        drop(limiter.until_ready().await);
        let fifth_left = start.elapsed();
        assert!(
            fifth_left >= UNANSWERED_BOUND + Duration::from_secs(1)
                && fifth_left < UNANSWERED_BOUND + Duration::from_millis(1050),
            "{fifth_left:?}"
        );
        drop(hanging);
    }
}
