//! The server over real HTTP.

mod accounts;
mod administration;
mod alerts;
mod behaviour;
mod bounded;
mod browser;
mod builder;
mod charts;
// On a cluster of `segsync cluster` processes: `cargo test --all-features`, as
// `./scripts/test` runs them.
#[cfg(feature = "cluster")]
mod cluster;
#[cfg(feature = "cluster")]
mod cluster_processes;
mod config;
mod connections;
mod console;
mod crash;
mod custom_fields;
mod errors;
mod exports;
mod helpers;
mod home;
mod in_step;
mod openapi;
mod polish;
mod processes;
mod quota;
mod roles;
mod runs;
mod schedule;
mod schemathesis;
mod segments;
mod sessions;
mod system;
mod takeover;
mod tokens;
mod traces;
