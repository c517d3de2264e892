//! The server over real HTTP.

mod accounts;
mod alerts;
mod bounded;
mod browser;
mod config;
mod connections;
mod console;
mod crash;
mod custom_fields;
mod errors;
mod exports;
mod helpers;
mod in_step;
mod openapi;
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
