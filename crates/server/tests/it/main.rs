//! The server over real HTTP.

mod config;
mod connections;
mod helpers;
mod roles;
mod schedule;
mod segments;
mod sessions;
