//! The engine over real files: sources and their errors, and segments checked against an
//! independent evaluator on generated profiles.

#![allow(unreachable_pub)]

mod appends;
mod behaviour;
mod csv_properties;
mod delta_tables;
mod delta_writer;
mod differential;
mod fixtures;
mod memory_budget;
mod object_storage;
mod ordinary_scans;
mod postgres_database;
mod postgres_tables;
mod related_pruning;
mod s3_server;
mod same_members;
mod sources;
