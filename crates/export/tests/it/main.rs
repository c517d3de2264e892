//! Export runs end to end: profiles on disk, segments, the client, and the sandbox over HTTP.

#![allow(unreachable_pub)]

mod helpers;
mod runs;
