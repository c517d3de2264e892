//! The sandbox as a raw HTTP client sees it: status codes, error bodies, limits, tokens.

#![allow(unreachable_pub)]

mod account;
mod helpers;
mod imports;
mod oauth;
mod protocol;
