//! The server over real HTTP.

mod config;
mod helpers;
mod roles;
mod sessions;
