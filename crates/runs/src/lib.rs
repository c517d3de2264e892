//! Runs of exports, wherever they are asked for: queued (on demand, for "Run all", on the
//! refresh schedule), claimed by the workers of any process on the store, carried out against
//! Constant Contact with every import checkpointed in the store, resumed after a process died,
//! and always ended. The server calls it from its routes; the command line's state file uses its
//! checkpoints and ledger.
//!
//! - [`RunEngine`]: what every run needs (the store, the clients of connections, the settings),
//!   created once at start-up.
//! - [`Workers`]: the run workers of one process, the reaper of silent runs and the scheduler.
//! - [`schedule`]: the refresh schedules and the tick that starts their runs once per moment.
//!
//! The clients of saved connections, their sealed tokens and the one token manager per
//! connection are `segsync_connections`'.
//! - [`StoreCheckpoints`], [`load_ledger`], [`SharedQuota`]: a run's checkpoints and ledger in the
//!   store, and the API key's daily budget shared through it.

mod checkpoints;
mod engine;
mod erasure;
mod error;
mod execute;
mod failure;
pub mod follow;
mod ledger;
mod privacy_key;
mod progress;
mod quota;
mod resume;
pub mod schedule;
mod settings;
mod start;
pub mod stored_segments;
mod workers;

pub use checkpoints::StoreCheckpoints;
pub use engine::{ExclusionsSource, RunEngine, RunSettings};
pub use erasure::{Carried, ErasureError};
pub use error::RunsError;
pub use execute::{
    DryRunError, Prepared, ReadBackError, RunContext, SourceVersions, carry_out, dry_run,
};
pub use failure::{Disposition, RunFailure};
pub use ledger::load_ledger;
pub use privacy_key::{PrivacyKeyError, installation_hash_key};
pub use quota::SharedQuota;
pub use settings::RunsConfig;
pub use start::Started;
pub use workers::{INTERRUPTED_TOO_OFTEN, MAX_RESUMES, Workers};
