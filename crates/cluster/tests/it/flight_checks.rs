//! An executor serves only what its own jobs wrote: Ballista's own client asking for a job id
//! that climbs out of the work folder, or for a job the executor never ran, is refused, by the
//! Arrow Flight fetch and by the block transfer alike.

use ballista_core::client::BallistaClient;
use ballista_core::serde::scheduler::{PartitionId, ShuffleLayout};

use crate::loopback_cluster::LoopbackCluster;

#[tokio::test]
async fn an_executor_refuses_fetches_outside_its_own_jobs() {
    let cluster = LoopbackCluster::start(1).await;
    let mut client = BallistaClient::try_new(
        "127.0.0.1",
        cluster.flight_ports[0],
        16 * 1024 * 1024,
        false,
        None,
        1,
        10,
        65_535,
        65_535,
    )
    .await
    .unwrap();
    for (job_id, refusal) in [
        ("../../../../etc", "is not a job id"),
        ("/etc", "is not a job id"),
        ("nosuchjob", "no job nosuchjob ran here"),
    ] {
        for flight_transport in [true, false] {
            let partition = PartitionId {
                job_id: job_id.into(),
                stage_id: 1,
                partition_id: 0,
            };
            let refused = client
                .fetch_partition(
                    "executor",
                    &partition,
                    None,
                    ShuffleLayout::Sort,
                    flight_transport,
                )
                .await
                .err()
                .unwrap_or_else(|| panic!("{job_id:?} was served"));
            let said = format!("{refused:?}");
            assert!(said.contains(refusal), "{job_id:?}: {said}");
        }
    }
}
