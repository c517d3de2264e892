//! A Ballista cluster started from segsync's own binary: `segsync cluster scheduler` and
//! `segsync cluster executor`. Segments are evaluated on it when `[engine] cluster` names the
//! scheduler; the plans are DataFusion's, so a cluster built from the same release gives the
//! same members as the embedded engine.
//!
//! Both listen on loopback unless told otherwise: Ballista's gRPC is plain, without TLS or
//! authentication, so a cluster belongs on a private network.

mod checked_flight;
mod executor;
mod named_tasks;
mod scheduler;

pub use executor::{ExecutorOptions, run_executor};
pub use scheduler::{SchedulerOptions, run_scheduler, run_scheduler_on};

/// Why a cluster process stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("the {role} could not listen on {address}")]
    Listen {
        role: &'static str,
        address: String,
        source: std::io::Error,
    },
    #[error("the {role} stopped")]
    Ballista {
        role: &'static str,
        source: ballista_core::error::BallistaError,
    },
}
