//! The engine on a Ballista cluster of this crate's scheduler and executors, checked against
//! the engine's own independent evaluator (its differential suite and fixtures, shared by path
//! so that the engine does not depend on the cluster, even to test).

#![allow(unreachable_pub, dead_code)]

mod behaviour_on_cluster;
mod cluster;
#[path = "../../../engine/tests/it/delta_writer.rs"]
mod delta_writer;
#[path = "../../../engine/tests/it/differential.rs"]
mod differential;
#[path = "../../../engine/tests/it/fixtures.rs"]
mod fixtures;
mod flight_checks;
mod loopback_cluster;
#[path = "../../../engine/tests/it/postgres_database.rs"]
mod postgres_database;
#[path = "../../../engine/tests/it/s3_server.rs"]
mod s3_server;
mod sources_on_cluster;
mod tls_cluster;
