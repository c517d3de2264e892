//! The server over real HTTP.

mod config;
mod connections;
mod helpers;
mod roles;
mod segments;
mod sessions;
