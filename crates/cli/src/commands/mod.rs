//! One module per subcommand.

pub(crate) mod bench;
mod bench_cluster;
mod bench_cluster_storage;
mod bench_delta;
mod bench_duckdb;
mod bench_growth;
mod bench_read_back;
mod bench_removals;
mod bench_sources;
pub(crate) mod cluster;
pub(crate) mod demo;
pub(crate) mod demo_serve;
pub(crate) mod export;
pub(crate) mod privacy;
pub(crate) mod sandbox;
pub(crate) mod segments;
pub(crate) mod serve;
pub(crate) mod sources;
pub(crate) mod trigger;
pub(crate) mod users;
