//! A Ballista cluster started from segsync's own binary: `segsync cluster scheduler` and
//! `segsync cluster executor`. Segments are evaluated on it when `[engine] cluster` names the
//! scheduler; the plans are DataFusion's, so a cluster built from the same release gives the
//! same members as the embedded engine.
//!
//! Both listen on loopback unless told otherwise. Beyond loopback they require mutual TLS
//! (`--tls-ca`, `--tls-certificate`, `--tls-key`): every peer, scheduler, executor or node, shows
//! a certificate signed by the cluster's authority (see [`certificates`]), so that nobody else
//! can send a query, register an executor or fetch what the executors wrote.

pub mod certificates;
mod checked_flight;
mod executor;
mod named_tasks;
mod scheduler;
mod source_stores;
mod status_service;

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
    #[error(
        "the {role} would listen on {host}, beyond this machine, without authentication: \
         give it the cluster's TLS files (--tls-ca, --tls-certificate, --tls-key; see \
         `segsync cluster certificates`)"
    )]
    Unauthenticated { role: &'static str, host: String },
    #[error("the {role}'s TLS configuration cannot be used")]
    Tls {
        role: &'static str,
        source: tonic::transport::Error,
    },
    #[error("the {role} stopped")]
    Ballista {
        role: &'static str,
        source: ballista_core::error::BallistaError,
    },
}

/// Refuses to listen beyond loopback without TLS.
fn check_listening(
    role: &'static str,
    bind_host: &str,
    tls: Option<&segsync_engine::ClusterIdentity>,
) -> Result<(), ClusterError> {
    if tls.is_none() && !segsync_engine::is_loopback(bind_host) {
        return Err(ClusterError::Unauthenticated {
            role,
            host: bind_host.to_owned(),
        });
    }
    Ok(())
}
