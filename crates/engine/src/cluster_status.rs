//! What a cluster's scheduler says of itself — the executors it knows, whether each is alive,
//! its task slots and last heartbeat, and the queries it runs — asked over the scheduler's own
//! port (and its mutual TLS) from a service `segsync cluster scheduler` serves beside Ballista's.

use std::time::Duration;

use serde::Serialize;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Endpoint;

use crate::cluster::{scheduler_host_port, unavailable};
use crate::cluster_tls::{ClusterTls, is_loopback};
use crate::error::EngineError;

/// The gRPC method of the status service.
pub const CLUSTER_STATUS_PATH: &str = "/segsync.cluster.Status/Get";

/// The service's name, as gRPC routes it.
pub const CLUSTER_STATUS_SERVICE: &str = "segsync.cluster.Status";

/// How long the status may take: it is asked by `/readyz` and pages, which must not hang.
const ASKING: Duration = Duration::from_secs(3);

/// Asks for the status; it takes nothing.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ClusterStatusRequest {}

/// The scheduler's answer.
#[derive(Clone, PartialEq, Eq, prost::Message, Serialize)]
pub struct ClusterStatus {
    #[prost(message, repeated, tag = "1")]
    pub executors: Vec<ExecutorState>,
    /// Queries running now.
    #[prost(uint64, tag = "2")]
    pub running_queries: u64,
    /// Queries waiting for a slot.
    #[prost(uint64, tag = "3")]
    pub pending_queries: u64,
}

/// One executor, as the scheduler last heard of it.
#[derive(Clone, PartialEq, Eq, prost::Message, Serialize)]
pub struct ExecutorState {
    #[prost(string, tag = "1")]
    pub id: String,
    /// `host:port` of its Flight service, where results are fetched.
    #[prost(string, tag = "2")]
    pub address: String,
    /// Tasks it runs at once.
    #[prost(uint32, tag = "3")]
    pub slots: u32,
    /// `alive`, `draining` (shutting down cleanly: it takes no new task), `dead` or `unknown`.
    #[prost(string, tag = "4")]
    pub state: String,
    /// Seconds since its last heartbeat; none when it never sent one.
    #[prost(uint64, optional, tag = "5")]
    pub seconds_since_heartbeat: Option<u64>,
}

impl ClusterStatus {
    /// The executors that take tasks now.
    pub fn alive(&self) -> impl Iterator<Item = &ExecutorState> {
        self.executors
            .iter()
            .filter(|executor| executor.state == "alive")
    }

    /// The task slots of the executors alive.
    pub fn alive_slots(&self) -> u32 {
        self.alive().map(|executor| executor.slots).sum()
    }

    /// One line: what the cluster can do now.
    pub fn summary(&self) -> String {
        let alive = self.alive().count();
        format!(
            "{alive} executor{} alive with {} task slots; {} queries running, {} waiting",
            if alive == 1 { "" } else { "s" },
            self.alive_slots(),
            self.running_queries,
            self.pending_queries
        )
    }
}

/// The status of the cluster whose scheduler is at `cluster` (`df://host:port`), over mutual TLS
/// with `tls` (required beyond loopback).
pub async fn cluster_status(
    cluster: &str,
    tls: Option<&ClusterTls>,
) -> Result<ClusterStatus, EngineError> {
    let (host, port) = scheduler_host_port(cluster)?;
    let mut endpoint = Endpoint::from_shared(format!("http://{host}:{port}"))
        .map_err(|error| EngineError::ClusterAddress {
            cluster: cluster.to_owned(),
            problem: error.to_string(),
        })?
        .connect_timeout(ASKING)
        .timeout(ASKING);
    match tls {
        Some(tls) => {
            endpoint = tls
                .load()?
                .secure(endpoint)
                .map_err(|error| unavailable(cluster, error.to_string()))?;
        }
        None if !is_loopback(&host) => {
            return Err(EngineError::ClusterUnauthenticated {
                cluster: cluster.to_owned(),
            });
        }
        None => {}
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|error| unavailable(cluster, segsync_domain::ErrorChain(&error).to_string()))?;
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|error| unavailable(cluster, error.to_string()))?;
    let codec = tonic_prost::ProstCodec::<ClusterStatusRequest, ClusterStatus>::default();
    let answer = client
        .unary(
            tonic::Request::new(ClusterStatusRequest {}),
            PathAndQuery::from_static(CLUSTER_STATUS_PATH),
            codec,
        )
        .await
        .map_err(|status| match status.code() {
            tonic::Code::Unimplemented => unavailable(
                cluster,
                "it answers, but is not segsync's scheduler (no status service)".to_owned(),
            ),
            _ => unavailable(cluster, status.message().to_owned()),
        })?;
    Ok(answer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executor(state: &str, slots: u32) -> ExecutorState {
        ExecutorState {
            id: format!("{state}-{slots}"),
            address: "127.0.0.1:50051".to_owned(),
            slots,
            state: state.to_owned(),
            seconds_since_heartbeat: Some(2),
        }
    }

    #[test]
    fn only_executors_alive_count_towards_what_the_cluster_can_do() {
        let status = ClusterStatus {
            executors: vec![
                executor("alive", 2),
                executor("draining", 4),
                executor("alive", 3),
            ],
            running_queries: 1,
            pending_queries: 0,
        };
        assert_eq!(status.alive_slots(), 5);
        assert_eq!(
            status.summary(),
            "2 executors alive with 5 task slots; 1 queries running, 0 waiting"
        );
    }

    #[tokio::test]
    async fn a_cluster_beyond_loopback_is_asked_only_over_tls() {
        let error = cluster_status("df://10.0.0.5:50050", None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, EngineError::ClusterUnauthenticated { .. }),
            "{error:?}"
        );
    }
}
