//! The server over real HTTP.

mod config;
mod connections;
mod exports;
mod helpers;
mod openapi;
mod roles;
mod runs;
mod schedule;
mod segments;
mod sessions;
