//! Evaluating on a Ballista cluster: the same session, with Ballista's query planner, which
//! sends each query's logical plan to the scheduler; the executors read the profiles and the
//! results stream back in batches.

use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::cluster_codec::{ClusterLogicalCodec, ClusterPhysicalCodec};
use crate::cluster_tls::{ClusterTls, is_loopback};
use crate::error::EngineError;
use crate::source::ProfileSource;

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

/// `config` for queries sent to the cluster at `cluster`: over mutual TLS with `tls`, which a
/// cluster on another machine requires.
pub(crate) fn authenticated(
    cluster: &str,
    tls: Option<&ClusterTls>,
    config: SessionConfig,
) -> Result<SessionConfig, EngineError> {
    let (host, _) = scheduler_host_port(cluster)?;
    let Some(tls) = tls else {
        return if is_loopback(&host) {
            Ok(config)
        } else {
            Err(EngineError::ClusterUnauthenticated {
                cluster: cluster.to_owned(),
            })
        };
    };
    let identity = tls.load()?;
    // Upgraded first, so that Ballista's own defaults are applied before TLS is turned on
    // (it applies them only to a configuration it has not seen).
    Ok(config
        .upgrade_for_ballista()
        .with_ballista_use_tls(true)
        .with_ballista_override_create_grpc_client_endpoint(identity.endpoint_override()))
}

/// `config` with the plan codecs of segsync's cluster (see `cluster_codec.rs`), which the
/// scheduler and the executors use too.
pub(crate) fn with_codecs(config: SessionConfig) -> SessionConfig {
    config
        .with_ballista_logical_extension_codec(ClusterLogicalCodec::shared())
        .with_ballista_physical_extension_codec(ClusterPhysicalCodec::shared(
            crate::SourceOptions::default(),
        ))
}

/// `host:port` of a `df://host:port` address (the port is 50050 when left out).
fn scheduler_address(cluster: &str) -> Result<String, EngineError> {
    let (host, port) = scheduler_host_port(cluster)?;
    Ok(format!("{host}:{port}"))
}

pub(crate) fn scheduler_host_port(cluster: &str) -> Result<(String, u16), EngineError> {
    let url = url::Url::parse(cluster).map_err(|error| EngineError::ClusterAddress {
        cluster: cluster.to_owned(),
        problem: error.to_string(),
    })?;
    let host = url.host_str().ok_or_else(|| EngineError::ClusterAddress {
        cluster: cluster.to_owned(),
        problem: "it names no host".to_owned(),
    })?;
    Ok((host.to_owned(), url.port().unwrap_or(50050)))
}

pub(crate) fn unavailable(cluster: &str, problem: String) -> EngineError {
    EngineError::ClusterUnavailable {
        cluster: cluster.to_owned(),
        problem,
    }
}

/// The words a task's failure starts with when an executor of `segsync cluster executor` ran it;
/// the address that follows is the executor's.
pub const FAILED_ON_EXECUTOR: &str = "on the executor at ";

/// What a query that failed on the cluster means for the run. A task that failed on an
/// executor (a file it cannot read, memory it does not have) is the executor's message, which
/// names it; anything else — the scheduler unreachable, restarted, or the cluster out of
/// executors — makes the engine unavailable, and the run may be tried again.
pub(crate) fn query_failure(
    cluster: &str,
    source: &ProfileSource,
    error: &DataFusionError,
) -> EngineError {
    let text = error.to_string();
    if let Some(task) = task_failure(&text) {
        return if text.contains("ResourcesExhausted(") {
            EngineError::ExecutorMemory { detail: task }
        } else {
            EngineError::Read {
                file: source.display_location(),
                detail: task,
            }
        };
    }
    let problem = match text.find("failed: ") {
        // The scheduler of `segsync cluster scheduler` cancels what waits too long for an
        // executor; nobody else cancels a query a node still waits on.
        Some(at) if text.contains("Job ") && text[at + 8..].trim() == "Cancelled" => {
            "gave the query up: no executor was up to run it (see the scheduler's \
             --executor-wait-seconds)"
                .to_owned()
        }
        Some(at) if text.contains("Job ") => {
            let detail = text[at + 8..].trim();
            if rejected_as_a_plan(detail) {
                return EngineError::ClusterRejected {
                    cluster: cluster.to_owned(),
                    detail: detail.to_owned(),
                };
            }
            format!("gave the query up: {detail}")
        }
        _ => format!("lost the query: {text}"),
    };
    unavailable(cluster, problem)
}

/// Whether a job's failure is the query's own: DataFusion could not plan it, on the scheduler.
fn rejected_as_a_plan(detail: &str) -> bool {
    [
        "Internal error",
        "Error during planning",
        "Schema error",
        "This feature is not implemented",
        "Optimizer rule",
    ]
    .iter()
    .any(|words| detail.contains(words))
}

/// The message of an executor's task failure in Ballista's report of a job, which quotes the
/// error's debug form: the first string after [`FAILED_ON_EXECUTOR`], unescaped.
fn task_failure(text: &str) -> Option<String> {
    let start = text.find(FAILED_ON_EXECUTOR)?;
    let mut message = String::new();
    let mut characters = text[start..].chars();
    while let Some(character) = characters.next() {
        match character {
            '"' => break,
            '\\' => match characters.next() {
                Some('n') => message.push('\n'),
                Some('t') => message.push('\t'),
                Some(other) => message.push(other),
                None => break,
            },
            other => message.push(other),
        }
    }
    Some(message)
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

    #[test]
    fn a_cluster_on_another_machine_needs_tls() {
        let config = SessionConfig::new();
        for local in ["df://127.0.0.1:50050", "df://localhost", "df://[::1]:7"] {
            authenticated(local, None, config.clone()).unwrap();
        }
        let error = authenticated("df://10.0.0.5:50050", None, config).unwrap_err();
        assert!(
            matches!(error, EngineError::ClusterUnauthenticated { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("cluster_tls"), "{error}");
    }

    #[test]
    fn a_task_failure_is_the_executor_s_message_naming_it() {
        let source = ProfileSource::new("/data/profiles");
        let reported = DataFusionError::Execution(
            "Job 7 failed: Job failed due to stage 1 failed: Task failed due to runtime execution \
             error: DataFusionError(Context(\"on the executor at 10.0.0.7:50051: Object Store \
             error: Object at location /data/profiles/part-1.parquet not found: \\\"gone\\\"\", \
             ObjectStore(NotFound { path: \"/data/profiles/part-1.parquet\" })))"
                .to_owned(),
        );
        let error = query_failure("df://10.0.0.5:50050", &source, &reported);
        assert_eq!(
            error.to_string(),
            "reading profiles from /data/profiles: on the executor at 10.0.0.7:50051: Object \
             Store error: Object at location /data/profiles/part-1.parquet not found: \"gone\""
        );
    }

    #[test]
    fn anything_else_makes_the_engine_unavailable() {
        let source = ProfileSource::new("/data/profiles");
        let lost = DataFusionError::Execution(
            "Status { code: Unavailable, message: \"tcp connect error\" }".to_owned(),
        );
        let error = query_failure("df://10.0.0.5:50050", &source, &lost);
        assert!(
            matches!(error, EngineError::ClusterUnavailable { .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().starts_with(
                "the engine is unavailable: the cluster at df://10.0.0.5:50050 lost the query: "
            ),
            "{error}"
        );
        let rejected = DataFusionError::Execution(
            "Job 7 failed: DataFusion error: Internal error: Physical input schema should be the same as the one converted from logical input schema.".to_owned(),
        );
        let error = query_failure("df://h:1", &source, &rejected);
        assert!(
            matches!(error, EngineError::ClusterRejected { .. }),
            "a plan the cluster could not build is the query's failure, not unavailability: {error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("the cluster at df://h:1 could not carry out the query: DataFusion error: Internal error"),
            "{error}"
        );
        let given_up = DataFusionError::Execution("Job 9 failed: Cancelled".to_owned());
        assert_eq!(
            query_failure("df://h:1", &source, &given_up).to_string(),
            "the engine is unavailable: the cluster at df://h:1 gave the query up: no executor \
             was up to run it (see the scheduler's --executor-wait-seconds)"
        );
    }
}
