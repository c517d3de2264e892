//! The scheduler's status service (`segsync.cluster.Status/Get`), served beside Ballista's on the
//! scheduler's port: the executors it knows with their slots, state and last heartbeat, and the
//! queries it runs — what a node's System page, `/readyz` and `segsync cluster status` show.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ballista_core::serde::protobuf::executor_status::Status;
use ballista_scheduler::cluster::ClusterState;
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use segsync_engine::{
    CLUSTER_STATUS_PATH, CLUSTER_STATUS_SERVICE, ClusterStatus, ClusterStatusRequest, ExecutorState,
};
use tonic::body::Body;
use tonic::codegen::{Body as HttpBody, BoxFuture, Service, StdError, http};
use tonic::server::{NamedService, UnaryService};

/// The service, over the scheduler's state.
#[derive(Clone)]
pub(crate) struct StatusService {
    scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
    cluster: Arc<dyn ClusterState>,
    /// Seconds without a heartbeat after which an executor is taken for dead.
    executor_timeout: Duration,
}

impl StatusService {
    pub(crate) fn new(
        scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
        cluster: Arc<dyn ClusterState>,
        executor_timeout: Duration,
    ) -> Self {
        Self {
            scheduler,
            cluster,
            executor_timeout,
        }
    }

    async fn status(&self) -> ClusterStatus {
        let cluster = &self.cluster;
        let heartbeats = cluster.executor_heartbeats();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut executors: Vec<ExecutorState> = cluster
            .registered_executor_metadata()
            .await
            .into_iter()
            .map(|metadata| {
                let heartbeat = heartbeats.get(&metadata.id);
                let age = heartbeat.map(|beat| now.saturating_sub(beat.timestamp));
                let state = match heartbeat.and_then(|beat| beat.status.as_ref()?.status.as_ref()) {
                    _ if age.is_none_or(|age| age > self.executor_timeout.as_secs()) => "dead",
                    // Executors that ask for work beat without a status while active.
                    Some(Status::Active(_)) | None => "alive",
                    Some(Status::Terminating(_)) => "draining",
                    Some(Status::Dead(_)) => "dead",
                    Some(Status::Unknown(_)) => "unknown",
                };
                ExecutorState {
                    id: metadata.id,
                    address: format!("{}:{}", metadata.host, metadata.port),
                    slots: metadata.specification.vcores,
                    state: state.to_owned(),
                    seconds_since_heartbeat: age,
                }
            })
            .collect();
        executors.sort_by(|a, b| a.address.cmp(&b.address));
        ClusterStatus {
            executors,
            running_queries: self.scheduler.running_job_number() as u64,
            pending_queries: self.scheduler.pending_job_number() as u64,
        }
    }
}

impl NamedService for StatusService {
    const NAME: &'static str = CLUSTER_STATUS_SERVICE;
}

/// The one method, as tonic's server runs it.
struct Get(StatusService);

impl UnaryService<ClusterStatusRequest> for Get {
    type Response = ClusterStatus;
    type Future = BoxFuture<tonic::Response<ClusterStatus>, tonic::Status>;

    fn call(&mut self, _request: tonic::Request<ClusterStatusRequest>) -> Self::Future {
        let service = self.0.clone();
        Box::pin(async move { Ok(tonic::Response::new(service.status().await)) })
    }
}

impl<B> Service<http::Request<B>> for StatusService
where
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() == CLUSTER_STATUS_PATH {
            let method = Get(self.clone());
            return Box::pin(async move {
                let codec = tonic_prost::ProstCodec::default();
                Ok(tonic::server::Grpc::new(codec).unary(method, request).await)
            });
        }
        Box::pin(async move {
            let mut response = http::Response::new(Body::default());
            let headers = response.headers_mut();
            headers.insert(
                tonic::Status::GRPC_STATUS,
                (tonic::Code::Unimplemented as i32).into(),
            );
            headers.insert(
                http::header::CONTENT_TYPE,
                tonic::metadata::GRPC_CONTENT_TYPE,
            );
            Ok(response)
        })
    }
}
