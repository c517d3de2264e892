//! The executor's Arrow Flight service, serving only what its own jobs wrote. Ballista's
//! service builds the path of a shuffle file from the job id a ticket carries; a ticket whose
//! job id is not a plain identifier (`../..`, a slash, an absolute path) or names no job this
//! executor ran is refused before a path is built. Every other call goes to Ballista's service
//! unchanged. With the cluster's TLS files, only a peer with a certificate of the cluster's
//! authority reaches the service at all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, PollInfo,
    SchemaResult, Ticket,
};
use ballista_core::error::BallistaError;
use ballista_core::serde::decode_protobuf;
use ballista_core::serde::scheduler::Action as BallistaAction;
use ballista_core::utils::{GrpcServerConfig, create_grpc_server};
use ballista_executor::ArrowFlightServerProvider;
use ballista_executor::flight_service::BallistaFlightService;
use ballista_executor::shutdown::Shutdown;
use tonic::transport::ServerTlsConfig;
use tonic::{Request, Response, Status, Streaming};

/// The action Ballista fetches shuffle files with, block by block.
const BLOCK_TRANSPORT: &str = "IO_BLOCK_TRANSPORT";

/// The longest job id served; Ballista's are a few characters.
const MAX_JOB_ID: usize = 64;

/// The provider an executor starts its Flight server with: Ballista's server and message
/// sizes, around the checked service, over mutual TLS with `tls`.
pub(crate) fn provider(
    max_encoding_message_size: usize,
    max_decoding_message_size: usize,
    tls: Option<ServerTlsConfig>,
) -> Arc<ArrowFlightServerProvider> {
    Arc::new(
        move |work_dir: String,
              address: SocketAddr,
              mut shutdown: Shutdown,
              config: GrpcServerConfig| {
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = FlightServiceServer::new(CheckedFlightService::new(work_dir))
                    .max_encoding_message_size(max_encoding_message_size)
                    .max_decoding_message_size(max_decoding_message_size);
                let mut server = create_grpc_server(&config);
                if let Some(tls) = tls {
                    server = server.tls_config(tls).map_err(BallistaError::TonicError)?;
                }
                server
                    .add_service(service)
                    .serve_with_shutdown(address, shutdown.recv())
                    .await
                    .map_err(BallistaError::TonicError)
            })
        },
    )
}

/// Ballista's Flight service behind a check of every ticket's job id.
pub(crate) struct CheckedFlightService {
    inner: BallistaFlightService,
    work_dir: PathBuf,
}

impl CheckedFlightService {
    pub(crate) fn new(work_dir: String) -> Self {
        Self {
            work_dir: PathBuf::from(&work_dir),
            inner: BallistaFlightService::new(work_dir),
        }
    }

    /// Refuses a fetch whose job id is not one of this executor's jobs.
    fn check(&self, encoded: &[u8]) -> Result<(), Status> {
        let action = decode_protobuf(encoded)
            .map_err(|error| Status::invalid_argument(format!("not a fetch: {error}")))?;
        let BallistaAction::FetchPartition { job_id, .. } = &action;
        served_job(&self.work_dir, job_id.as_str())
    }
}

/// `Ok` when `job_id` is a plain identifier naming a job whose files are under `work_dir`.
fn served_job(work_dir: &Path, job_id: &str) -> Result<(), Status> {
    let plain = !job_id.is_empty()
        && job_id.len() <= MAX_JOB_ID
        && job_id
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_'));
    if !plain {
        return Err(Status::invalid_argument(format!(
            "{:?} is not a job id",
            job_id.chars().take(MAX_JOB_ID).collect::<String>()
        )));
    }
    if !work_dir.join(job_id).is_dir() {
        return Err(Status::not_found(format!("no job {job_id} ran here")));
    }
    Ok(())
}

#[tonic::async_trait]
impl FlightService for CheckedFlightService {
    type HandshakeStream = <BallistaFlightService as FlightService>::HandshakeStream;
    type ListFlightsStream = <BallistaFlightService as FlightService>::ListFlightsStream;
    type DoGetStream = <BallistaFlightService as FlightService>::DoGetStream;
    type DoPutStream = <BallistaFlightService as FlightService>::DoPutStream;
    type DoActionStream = <BallistaFlightService as FlightService>::DoActionStream;
    type ListActionsStream = <BallistaFlightService as FlightService>::ListActionsStream;
    type DoExchangeStream = <BallistaFlightService as FlightService>::DoExchangeStream;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        self.inner.handshake(request).await
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        self.inner.list_flights(request).await
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.inner.get_flight_info(request).await
    }

    async fn poll_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        self.inner.poll_flight_info(request).await
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        self.inner.get_schema(request).await
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        self.check(&request.get_ref().ticket)?;
        self.inner.do_get(request).await
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        self.inner.do_put(request).await
    }

    async fn do_exchange(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        self.inner.do_exchange(request).await
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        if request.get_ref().r#type == BLOCK_TRANSPORT {
            self.check(&request.get_ref().body)?;
        }
        self.inner.do_action(request).await
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        self.inner.list_actions(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_of_jobs_that_ran_here_are_served() {
        let work_dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(work_dir.path().join("aBc1234")).unwrap();
        assert!(served_job(work_dir.path(), "aBc1234").is_ok());
        for (job_id, code) in [
            ("../../etc", tonic::Code::InvalidArgument),
            ("/etc", tonic::Code::InvalidArgument),
            ("a/b", tonic::Code::InvalidArgument),
            ("..", tonic::Code::InvalidArgument),
            ("", tonic::Code::InvalidArgument),
            ("someone-elses", tonic::Code::NotFound),
        ] {
            let refused = served_job(work_dir.path(), job_id).unwrap_err();
            assert_eq!(refused.code(), code, "{job_id:?}: {refused}");
        }
        let long = "a".repeat(MAX_JOB_ID + 1);
        assert_eq!(
            served_job(work_dir.path(), &long).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }
}
