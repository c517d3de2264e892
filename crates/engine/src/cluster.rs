//! Evaluating on a Ballista cluster: the same session, with Ballista's query planner, which
//! sends each query's logical plan to the scheduler; the executors read the profiles and the
//! results stream back in batches.

use std::time::Duration;

use ballista::prelude::SessionContextExt;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionContext;

use crate::error::EngineError;
use crate::source::ProfileFormat;

/// How long a node waits for the scheduler to answer before it calls the engine unavailable.
const REACH: Duration = Duration::from_secs(5);

/// A context whose queries run on the cluster whose scheduler is at `cluster`
/// (`df://host:port`), once the scheduler answers.
pub(crate) async fn remote_context(
    cluster: &str,
    state: SessionState,
) -> Result<SessionContext, EngineError> {
    let address = scheduler_address(cluster)?;
    match tokio::time::timeout(REACH, tokio::net::TcpStream::connect(&address)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => return Err(unavailable(cluster, error.to_string())),
        Err(_) => {
            return Err(unavailable(
                cluster,
                format!("no answer within {} s", REACH.as_secs()),
            ));
        }
    }
    SessionContext::remote_with_state(cluster, state)
        .await
        .map_err(|error| unavailable(cluster, error.to_string()))
}

/// `host:port` of a `df://host:port` address (the port is 50050 when left out).
fn scheduler_address(cluster: &str) -> Result<String, EngineError> {
    let url = url::Url::parse(cluster).map_err(|error| EngineError::ClusterAddress {
        cluster: cluster.to_owned(),
        problem: error.to_string(),
    })?;
    let host = url.host_str().ok_or_else(|| EngineError::ClusterAddress {
        cluster: cluster.to_owned(),
        problem: "it names no host".to_owned(),
    })?;
    Ok(format!("{host}:{}", url.port().unwrap_or(50050)))
}

pub(crate) fn unavailable(cluster: &str, problem: String) -> EngineError {
    EngineError::ClusterUnavailable {
        cluster: cluster.to_owned(),
        problem,
    }
}

/// Refuses, before anything runs, a source the executors could not read from the plan
/// alone: Delta tables and PostgreSQL need codecs the cluster does not have yet.
pub(crate) fn check_format(what: &str, format: ProfileFormat) -> Result<(), EngineError> {
    match format {
        ProfileFormat::Parquet | ProfileFormat::Csv | ProfileFormat::Json => Ok(()),
        ProfileFormat::Delta | ProfileFormat::Postgres => Err(EngineError::NotOnCluster {
            what: what.to_owned(),
            format: format.name(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_the_host_and_port_of_the_url() {
        assert_eq!(
            scheduler_address("df://10.0.0.5:50050").unwrap(),
            "10.0.0.5:50050"
        );
        assert_eq!(
            scheduler_address("df://scheduler.internal").unwrap(),
            "scheduler.internal:50050"
        );
        let error = scheduler_address("localhost:50050")
            .unwrap_err()
            .to_string();
        assert!(error.contains("localhost:50050"), "{error}");
    }
}
