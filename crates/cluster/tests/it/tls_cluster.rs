//! A cluster over mutual TLS serves only peers with a certificate of its authority: segments
//! evaluated on it give the embedded engine's members, while a client with no certificate, or
//! with one of another authority, can neither send the scheduler anything (a query, an
//! executor's registration) nor fetch from an executor; a node with the wrong authority refuses
//! the cluster; and no role listens beyond loopback without TLS.

use ballista_core::BALLISTA_PROTOCOL_VERSION;
use ballista_core::client::BallistaClient;
use ballista_core::extension::BallistaConfigGrpcEndpoint;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{
    ExecutorOperatingSystemSpecification, ExecutorRegistration, ExecutorSpecification,
    PollWorkParams,
};
use ballista_core::serde::scheduler::{PartitionId, ShuffleLayout};
use std::sync::Arc;

use segsync_cluster::{
    ClusterError, ExecutorOptions, SchedulerOptions, run_executor, run_scheduler, run_scheduler_on,
};
use segsync_engine::{
    ClusterIdentity, EndpointOverride, EngineError, EngineSettings, ProfileSource, Profiles,
};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

use crate::differential::check_generated_segments;
use crate::fixtures;
use crate::loopback_cluster::{LoopbackCluster, free_port, peer_tls};

/// 150 generated rule trees on partitioned Parquet, read by two executors that fetch each
/// other's shuffle files over TLS: the members are the embedded engine's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn segments_on_a_tls_cluster_give_the_embedded_engine_s_members() {
    let authority = tempfile::tempdir().unwrap();
    let cluster = LoopbackCluster::start_tls(2, authority.path()).await;
    let folder = tempfile::tempdir().unwrap();
    let rows = fixtures::rows(2_000, 7);
    for (part, chunk) in rows.chunks(500).enumerate() {
        fixtures::write_parquet(&folder.path().join(format!("part-{part}.parquet")), chunk);
    }
    let source = ProfileSource::new(folder.path().to_string_lossy());
    let profiles = Profiles::open_with(source, &cluster.settings())
        .await
        .unwrap();
    assert_eq!(profiles.count_all().await.unwrap(), 2_000);
    check_generated_segments(&profiles, &rows, "Parquet on a TLS cluster").await;

    // The status is asked over the same TLS, by a member of the cluster only.
    let status = segsync_engine::cluster_status(&cluster.url, cluster.node_tls.as_ref())
        .await
        .unwrap();
    assert_eq!(status.alive().count(), 2, "{status:?}");
    let in_the_clear = segsync_engine::cluster_status(&cluster.url, None).await;
    assert!(in_the_clear.is_err(), "{in_the_clear:?}");
}

/// The ways a stranger dials a peer: in the clear, over TLS with no certificate, and with a
/// certificate of another authority. Over TLS, it trusts the cluster's authority, so that only
/// its own certificate is wrong.
enum Stranger {
    Plain,
    NoCertificate,
    OtherAuthority(ClusterIdentity),
}

impl Stranger {
    fn all(other: &ClusterIdentity) -> [Stranger; 3] {
        [
            Stranger::Plain,
            Stranger::NoCertificate,
            Stranger::OtherAuthority(other.clone()),
        ]
    }

    fn name(&self) -> &'static str {
        match self {
            Stranger::Plain => "in the clear",
            Stranger::NoCertificate => "without a certificate",
            Stranger::OtherAuthority(_) => "with another authority's certificate",
        }
    }

    /// Its TLS, trusting the authority of `cluster`; none in the clear.
    fn tls(&self, cluster: &LoopbackCluster) -> Option<ClientTlsConfig> {
        let ca =
            Certificate::from_pem(std::fs::read(&cluster.node_tls.as_ref().unwrap().ca).unwrap());
        match self {
            Stranger::Plain => None,
            Stranger::NoCertificate => Some(ClientTlsConfig::new().ca_certificate(ca)),
            Stranger::OtherAuthority(identity) => Some(identity.client_tls().ca_certificate(ca)),
        }
    }

    /// The endpoint it dials `port` with.
    fn endpoint(&self, cluster: &LoopbackCluster, port: u16) -> Endpoint {
        match self.tls(cluster) {
            None => Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap(),
            Some(tls) => Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
                .unwrap()
                .tls_config(tls)
                .unwrap(),
        }
    }

    /// What Ballista's client is given to dial with.
    fn dial(&self, cluster: &LoopbackCluster) -> Option<Arc<BallistaConfigGrpcEndpoint>> {
        let tls = self.tls(cluster)?;
        let dial: EndpointOverride = Arc::new(
            move |endpoint: Endpoint| -> Result<Endpoint, Box<dyn std::error::Error + Send + Sync>> {
                Ok(endpoint.tls_config(tls.clone())?)
            },
        );
        Some(Arc::new(BallistaConfigGrpcEndpoint::new(dial)))
    }
}

/// An executor's first call, as Ballista's pull-scheduled executors make it: asking for work
/// registers the executor.
fn asking_for_work(id: &str) -> PollWorkParams {
    PollWorkParams {
        metadata: Some(ExecutorRegistration {
            id: id.to_owned(),
            host: Some("127.0.0.1".to_owned()),
            port: u32::from(free_port()),
            grpc_port: u32::from(free_port()),
            specification: Some(ExecutorSpecification::default()),
            os_info: Some(ExecutorOperatingSystemSpecification::default()),
            ballista_protocol_version: BALLISTA_PROTOCOL_VERSION,
        }),
        num_free_vcores: 0,
        task_status: Vec::new(),
    }
}

async fn register(endpoint: Endpoint, id: &str) -> Result<(), String> {
    let channel = endpoint
        .connect()
        .await
        .map_err(|error| format!("{error:?}"))?;
    SchedulerGrpcClient::new(channel)
        .poll_work(asking_for_work(id))
        .await
        .map(|_| ())
        .map_err(|status| format!("{status:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduler_and_the_executors_refuse_strangers() {
    let authority = tempfile::tempdir().unwrap();
    let cluster = LoopbackCluster::start_tls(1, authority.path()).await;
    let elsewhere = tempfile::tempdir().unwrap();
    let other = peer_tls(elsewhere.path(), "rogue").load().unwrap();

    // A peer of the cluster reaches the scheduler: the refusals below are the strangers'.
    let member = cluster.node_tls.as_ref().unwrap().load().unwrap();
    let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{}", cluster.port)).unwrap();
    register(member.secure(endpoint).unwrap(), "member")
        .await
        .expect("a peer with the cluster's certificate registers");

    for stranger in Stranger::all(&other) {
        let refused = register(stranger.endpoint(&cluster, cluster.port), "rogue").await;
        assert!(
            refused.is_err(),
            "an executor {} registered with the scheduler",
            stranger.name()
        );
    }

    // A node with the cluster's certificate reaches the executor's Flight service (which
    // refuses a job it never ran); strangers do not reach it at all.
    let flight_port = cluster.flight_ports[0];
    let member_dial = Arc::new(BallistaConfigGrpcEndpoint::new(member.endpoint_override()));
    let fetched = fetch(flight_port, Some(member_dial)).await;
    assert!(fetched.contains("no job nosuchjob ran here"), "{fetched}");
    for stranger in Stranger::all(&other) {
        let fetched = fetch(flight_port, stranger.dial(&cluster)).await;
        assert!(
            !fetched.contains("ran here") && fetched != "fetched",
            "the executor served a fetch {}: {fetched}",
            stranger.name()
        );
    }
}

/// What Ballista's own client gets when it fetches a partition of a job that never ran from
/// the executor at `port`, dialling it with `tls` (in the clear without).
async fn fetch(port: u16, tls: Option<Arc<BallistaConfigGrpcEndpoint>>) -> String {
    let use_tls = tls.is_some();
    let client = BallistaClient::try_new(
        "127.0.0.1",
        port,
        16 * 1024 * 1024,
        use_tls,
        tls,
        1,
        10,
        65_535,
        65_535,
    )
    .await;
    let mut client = match client {
        Ok(client) => client,
        Err(error) => return format!("not connected: {error:?}"),
    };
    let partition = PartitionId {
        job_id: "nosuchjob".into(),
        stage_id: 1,
        partition_id: 0,
    };
    match client
        .fetch_partition("executor", &partition, None, ShuffleLayout::Sort, true)
        .await
    {
        Ok(_) => "fetched".to_owned(),
        Err(error) => format!("{error:?}"),
    }
}

/// A node whose certificate is of another authority, or that has none, gets no answer from
/// the cluster: the engine is unavailable, and nothing is evaluated.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_refuses_a_cluster_it_cannot_authenticate() {
    let authority = tempfile::tempdir().unwrap();
    let cluster = LoopbackCluster::start_tls(1, authority.path()).await;
    let folder = tempfile::tempdir().unwrap();
    let csv = folder.path().join("profiles.csv");
    std::fs::write(&csv, "id,email\n1,a@example.com\n").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for tls in [None, Some(peer_tls(elsewhere.path(), "node"))] {
        let settings = EngineSettings::default()
            .with_cluster(Some(cluster.url.clone()))
            .with_cluster_tls(tls.clone());
        let counted = async {
            let profiles =
                Profiles::open_with(ProfileSource::new(csv.to_string_lossy()), &settings).await?;
            profiles.count_all().await
        };
        let error = tokio::time::timeout(std::time::Duration::from_secs(60), counted)
            .await
            .expect("the node gave up within a minute")
            .unwrap_err();
        assert!(
            matches!(error, EngineError::ClusterUnavailable { .. }),
            "with {tls:?}: {error:?}"
        );
    }
}

/// Neither role listens beyond loopback without TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_role_listens_beyond_loopback_without_tls() {
    for bind_host in ["0.0.0.0", "::"] {
        let scheduler = run_scheduler(SchedulerOptions {
            bind_host: bind_host.to_owned(),
            port: free_port(),
            ..SchedulerOptions::default()
        })
        .await;
        assert!(
            matches!(scheduler, Err(ClusterError::Unauthenticated { .. })),
            "{scheduler:?}"
        );
        let executor = run_executor(ExecutorOptions {
            bind_host: bind_host.to_owned(),
            ..ExecutorOptions::default()
        })
        .await;
        let said = executor.unwrap_err().to_string();
        assert!(said.contains("without authentication"), "{said}");
    }
}

/// An executor with another authority's certificate never joins: with it alone beside the
/// scheduler, a query finds no executor and is given up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_executor_of_another_authority_cannot_join() {
    let authority = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let scheduler = tokio::spawn(run_scheduler_on(
        listener,
        SchedulerOptions {
            port,
            executor_wait_seconds: 3,
            tls: Some(peer_tls(authority.path(), "scheduler").load().unwrap()),
            ..SchedulerOptions::default()
        },
    ));
    let elsewhere = tempfile::tempdir().unwrap();
    let rogue = tokio::spawn(run_executor(ExecutorOptions {
        flight_port: free_port(),
        grpc_port: free_port(),
        scheduler_port: port,
        heartbeat_seconds: 1,
        tls: Some(peer_tls(elsewhere.path(), "rogue").load().unwrap()),
        ..ExecutorOptions::default()
    }));

    let folder = tempfile::tempdir().unwrap();
    let csv = folder.path().join("profiles.csv");
    std::fs::write(&csv, "id,email\n1,a@example.com\n").unwrap();
    let settings = EngineSettings::default()
        .with_cluster(Some(format!("df://127.0.0.1:{port}")))
        .with_cluster_tls(Some(peer_tls(authority.path(), "node")));
    let profiles = Profiles::open_with(ProfileSource::new(csv.to_string_lossy()), &settings)
        .await
        .unwrap();
    let error = tokio::time::timeout(std::time::Duration::from_secs(60), profiles.count_all())
        .await
        .expect("the query was given up within a minute")
        .unwrap_err();
    assert!(
        error.to_string().contains("no executor was up to run it"),
        "{error}"
    );
    rogue.abort();
    scheduler.abort();
}
