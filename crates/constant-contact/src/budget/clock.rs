//! A clock for `governor` that reads tokio's time, so that tests with paused time control the
//! rate limiter as well as the sleeps.

use std::time::Duration;

use governor::clock::Clock;

#[derive(Debug, Clone, Copy)]
pub(super) struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    pub(super) fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    /// Time since the clock was made; `governor` implements its `Reference` for `Duration`.
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}
