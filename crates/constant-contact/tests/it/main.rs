//! The client against the sandbox, over real HTTP.

#![allow(unreachable_pub)]

mod activities;
mod helpers;
mod imports;
mod lists_and_contacts;
mod oauth;
mod resilience;
