//! Runs of exports inside the server: starting them (on demand, for "Run all" and on schedule),
//! the workers that claim queued runs from the store and carry them out, and what happens to
//! runs when the server stops or a process dies.

mod checkpoints;
mod execute;
mod progress;
mod resume;
mod start;
mod workers;

pub use checkpoints::{SharedQuota, StoreCheckpoints, load_ledger};
pub(crate) use execute::prepare;
pub use start::Started;
pub(crate) use start::start_run;
pub(crate) use workers::{Workers, resume_interrupted_runs_at_start};
