//! The sandbox as a raw HTTP client sees it: status codes, error bodies, limits, tokens.

#![allow(unreachable_pub)]

mod account;
mod contact_exports;
mod helpers;
mod imports;
mod oauth;
mod protocol;
