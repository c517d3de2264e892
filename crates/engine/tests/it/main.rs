//! The engine over real files: sources and their errors, and segments checked against an
//! independent evaluator on generated profiles.

#![allow(unreachable_pub)]

mod behaviour;
// The cluster's tests need Ballista in the build: `cargo test --all-features`, as
// `./scripts/test` runs them.
#[cfg(feature = "cluster")]
mod cluster;
mod csv_properties;
mod delta_tables;
mod differential;
mod fixtures;
#[cfg(feature = "cluster")]
mod loopback_cluster;
mod memory_budget;
mod object_storage;
mod postgres_tables;
mod s3_server;
mod same_members;
mod sources;
