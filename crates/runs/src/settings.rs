//! `[runs]` in the configuration: how this process works on runs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunsConfig {
    /// How many runs this process works on at once.
    pub workers: u32,
    /// Whether this process queues the runs the refresh schedules call for. With several
    /// processes on one PostgreSQL database any number may: each moment of a schedule is taken
    /// by exactly one.
    pub scheduler: bool,
    /// How long a stopping server waits for its runs to end their batch in flight, in seconds.
    pub shutdown_grace_seconds: u64,
    /// The longest a run may take, in seconds; a run that reaches it stops after its batch in
    /// flight and ends TimedOut, saying so and what it sent.
    pub max_run_seconds: u64,
    /// A running run whose worker has written nothing (progress is written every second) for
    /// this long is taken over by any node's reaper; its old worker, should it come back, finds
    /// its claim lapsed and writes nothing more.
    pub silent_run_seconds: u64,
}

impl Default for RunsConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            scheduler: true,
            shutdown_grace_seconds: 60,
            max_run_seconds: 3600,
            silent_run_seconds: 60,
        }
    }
}
